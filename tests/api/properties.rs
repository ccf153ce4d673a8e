//! Property tests: arbitrary input through the CSV import and every form never panics,
//! never answers 5xx and never writes half.
