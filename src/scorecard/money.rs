//! Exact money, currencies and ratios.
//!
//! Money is an integer count of the currency's minor units; ratios and shares are exact
//! fractions. Nothing here touches a float, so totals add up to the last cent.

use std::fmt;

/// An amount in minor units (cents for USD, yen for JPY). Never negative in this product.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(pub i64);

/// The largest amount accepted anywhere: 10¹⁴ minor units (a trillion dollars a month).
/// Times the most workflows a scorecard holds (20,000) it still fits an `i64`, so no
/// total can overflow.
pub const MAX_MINOR: i64 = 100_000_000_000_000;

impl Money {
    pub const ZERO: Money = Money(0);

    pub fn minor(self) -> i64 {
        self.0
    }

    /// Parses a non-negative decimal such as `12500` or `12500.50`, with no more decimals
    /// than the currency's minor units. Thousands separators are not accepted, because
    /// `1,000` means one thousand in some countries and one in others.
    pub fn parse(text: &str, currency: Currency) -> Result<Money, String> {
        let digits = currency.minor_units;
        let example = currency.example();
        match parse_scaled(text, digits) {
            Ok(minor) if minor <= i128::from(MAX_MINOR) => Ok(Money(minor as i64)),
            Ok(_) | Err(DecimalError::TooLarge) => Err("the amount is too large".into()),
            Err(DecimalError::Negative) => Err("the amount cannot be negative".into()),
            Err(DecimalError::Malformed) => Err(format!("enter a plain amount such as {example}")),
            Err(DecimalError::TooManyPlaces) if digits == 0 => Err(format!(
                "{} has no minor units: enter a whole amount",
                currency.code
            )),
            Err(DecimalError::TooManyPlaces) => Err(format!(
                "{} allows at most {digits} decimals: enter an amount such as {example}",
                currency.code
            )),
        }
    }

    /// The amount as a plain decimal in the currency: `12500.50`, `12500` for JPY.
    pub fn to_decimal(self, currency: Currency) -> String {
        let digits = currency.minor_units;
        if digits == 0 {
            return self.0.to_string();
        }
        let unit = 10_i64.pow(digits);
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let unit = unit as u64;
        format!(
            "{sign}{}.{:0width$}",
            abs / unit,
            abs % unit,
            width = digits as usize
        )
    }

    /// The amount for people: `USD 12,500.50`, grouped by thousands.
    pub fn display(self, currency: Currency) -> String {
        self.shown(currency).to_string()
    }

    /// The amount for people, written straight into a page without an allocation.
    pub fn shown(self, currency: Currency) -> Shown {
        Shown {
            money: self,
            currency,
        }
    }
}

impl std::ops::Add for Money {
    type Output = Money;
    fn add(self, rhs: Money) -> Money {
        Money(self.0 + rhs.0)
    }
}

impl std::ops::Sub for Money {
    type Output = Money;
    fn sub(self, rhs: Money) -> Money {
        Money(self.0 - rhs.0)
    }
}

impl std::iter::Sum for Money {
    fn sum<I: Iterator<Item = Money>>(iter: I) -> Money {
        iter.fold(Money::ZERO, |a, b| a + b)
    }
}

/// An amount formatted for people (`USD 12,500.50`); its text is digits, commas, a point,
/// a minus sign and a currency code, so it needs no HTML escaping.
#[derive(Debug, Clone, Copy)]
pub struct Shown {
    money: Money,
    currency: Currency,
}

impl Shown {
    /// Writes the text in a few pieces, each a slice of a table of digits checked as text
    /// when compiled: nothing goes through `core::fmt` and no byte is checked at run time.
    /// Into a `String`, every piece is a short copy of a length known when compiled, which
    /// matters on the scorecard page (two amounts per row). `Display` writes the same.
    #[inline(always)]
    pub fn write_to<W: fmt::Write + ?Sized>(self, out: &mut W) -> fmt::Result {
        if self.money.0 < 0 {
            out.write_str("-")?;
        }
        let code = self.currency.code;
        match code.get(..3) {
            // ISO 4217 codes are three letters.
            Some(three) if code.len() == 3 => out.write_str(three)?,
            _ => out.write_str(code)?,
        }
        out.write_str(" ")?;
        let abs = self.money.0.unsigned_abs();
        match self.currency.minor_units {
            // Cents, as in most currencies: the point and both digits in one piece.
            2 => {
                write_grouped(out, abs / 100)?;
                let start = 3 * (abs % 100) as usize;
                out.write_str(&POINT_PAIRS[start..start + 3])
            }
            places => {
                let places = places.min(MAX_PLACES);
                let unit = 10_u64.pow(places);
                write_grouped(out, abs / unit)?;
                if places > 0 {
                    out.write_str(".")?;
                    write_padded(out, abs % unit, places)?;
                }
                Ok(())
            }
        }
    }
}

impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_to(f)
    }
}

impl askama::FastWritable for Shown {
    /// Rendered by `PageHtml`, straight into the page's buffer.
    fn write_into(
        &self,
        dest: &mut dyn fmt::Write,
        values: &dyn askama::Values,
    ) -> askama::Result<()> {
        match crate::web::page::lent(values) {
            Some(mut html) => Ok(self.write_to(&mut *html)?),
            None => Ok(self.write_to(dest)?),
        }
    }
}

impl askama::filters::HtmlSafe for Shown {}

/// The most minor units an amount is shown with: 10 to that power fits a `u64`.
const MAX_PLACES: u32 = 19;

/// A whole number grouped by thousands (`12,500`): the first group without its leading
/// zeros, then every further one with its comma. Below a billion, nearly every amount,
/// without a loop.
#[inline(always)]
fn write_grouped<W: fmt::Write + ?Sized>(out: &mut W, n: u64) -> fmt::Result {
    match n {
        0..THOUSAND => write_leading(out, n),
        THOUSAND..MILLION => {
            write_leading(out, n / THOUSAND)?;
            write_comma_group(out, n)
        }
        MILLION..BILLION => {
            write_leading(out, n / MILLION)?;
            write_comma_group(out, n / THOUSAND)?;
            write_comma_group(out, n)
        }
        _ => write_grouped_billions(out, n),
    }
}

#[inline(never)]
fn write_grouped_billions<W: fmt::Write + ?Sized>(out: &mut W, n: u64) -> fmt::Result {
    write_grouped(out, n / BILLION)?;
    write_comma_group(out, n / MILLION)?;
    write_comma_group(out, n / THOUSAND)?;
    write_comma_group(out, n)
}

const THOUSAND: u64 = 1_000;
const MILLION: u64 = 1_000_000;
const BILLION: u64 = 1_000_000_000;

/// A number below 1000 without leading zeros.
#[inline]
fn write_leading<W: fmt::Write + ?Sized>(out: &mut W, n: u64) -> fmt::Result {
    match n {
        100.. => write_digits::<W, 3>(out, n),
        10.. => write_digits::<W, 2>(out, n),
        _ => write_digits::<W, 1>(out, n),
    }
}

/// `n` (below `10^width`) in exactly `width` digits, leading zeros kept, three at a time.
fn write_padded<W: fmt::Write + ?Sized>(out: &mut W, n: u64, width: u32) -> fmt::Result {
    match width {
        0 => Ok(()),
        1 => write_digits::<W, 1>(out, n),
        2 => write_digits::<W, 2>(out, n),
        3 => write_digits::<W, 3>(out, n),
        _ => {
            write_padded(out, n / 1000, width - 3)?;
            write_digits::<W, 3>(out, n)
        }
    }
}

/// The last `WIDTH` (1 to 3) digits of `n % 1000`, zero-padded. A width known when
/// compiled makes the copy a single move.
#[inline]
fn write_digits<W: fmt::Write + ?Sized, const WIDTH: usize>(out: &mut W, n: u64) -> fmt::Result {
    let end = 3 * (n % 1000) as usize + 3;
    out.write_str(&DIGIT_TRIPLES[end - WIDTH..end])
}

/// `,` and the three digits of `n % 1000`, zero-padded.
#[inline]
fn write_comma_group<W: fmt::Write + ?Sized>(out: &mut W, n: u64) -> fmt::Result {
    let start = 4 * (n % 1000) as usize;
    out.write_str(&COMMA_TRIPLES[start..start + 4])
}

/// `000001002…999`: every group of three digits.
const DIGIT_TRIPLES: &str = match std::str::from_utf8(&DIGIT_TABLE) {
    Ok(text) => text,
    Err(_) => panic!("digits are ASCII"),
};

/// `,000,001,002…,999`: every group with its comma.
const COMMA_TRIPLES: &str = match std::str::from_utf8(&COMMA_TABLE) {
    Ok(text) => text,
    Err(_) => panic!("digits are ASCII"),
};

/// `.00.01.02….99`: the cents with their point.
const POINT_PAIRS: &str = match std::str::from_utf8(&POINT_TABLE) {
    Ok(text) => text,
    Err(_) => panic!("digits are ASCII"),
};

const DIGIT_TABLE: [u8; 3000] = digit_table(1000, None);
const COMMA_TABLE: [u8; 4000] = digit_table(1000, Some(b','));
const POINT_TABLE: [u8; 300] = digit_table(100, Some(b'.'));

/// Every number below `count` (1000 or 100) in three or two digits, each after a
/// separator if one is given.
const fn digit_table<const LEN: usize>(count: usize, separator: Option<u8>) -> [u8; LEN] {
    let mut table = [0; LEN];
    let (mut n, mut at) = (0, 0);
    while n < count {
        if let Some(separator) = separator {
            table[at] = separator;
            at += 1;
        }
        if count > 100 {
            table[at] = b'0' + (n / 100) as u8;
            at += 1;
        }
        table[at] = b'0' + (n / 10 % 10) as u8;
        table[at + 1] = b'0' + (n % 10) as u8;
        at += 2;
        n += 1;
    }
    table
}

/// An ISO 4217 currency with the number of minor units the standard defines for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Currency {
    pub code: &'static str,
    pub minor_units: u32,
}

impl Currency {
    pub const USD: Currency = Currency {
        code: "USD",
        minor_units: 2,
    };

    /// Accepts a code in any case (`usd`, `JPY`). Codes without minor units in the
    /// standard (gold, test codes) cannot hold money and are refused.
    pub fn parse(code: &str) -> Result<Currency, String> {
        let upper = code.trim().to_ascii_uppercase();
        let currency = iso_currency::Currency::from_code(&upper).ok_or_else(|| {
            format!(
                "{:?} is not an ISO 4217 currency code: use one such as USD, EUR or JPY",
                code.trim()
            )
        })?;
        let minor_units = currency.exponent().ok_or_else(|| {
            format!("{upper} is not a currency with minor units: use one such as USD, EUR or JPY")
        })?;
        Ok(Currency {
            code: currency.code(),
            minor_units: u32::from(minor_units),
        })
    }

    fn example(self) -> &'static str {
        match self.minor_units {
            0 => "12500",
            1 => "12500.5",
            2 => "12500.50",
            3 => "12500.500",
            _ => "12500.5000",
        }
    }
}

/// A fraction between 0 and 1 held exactly as parts per million: the small-to-frontier
/// cost ratio.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ratio {
    ppm: i64,
}

impl Ratio {
    pub const ONE_PPM: i64 = 1_000_000;
    pub const DEFAULT: Ratio = Ratio { ppm: 100_000 };

    pub fn from_ppm(ppm: i64) -> Option<Ratio> {
        (0..=Self::ONE_PPM).contains(&ppm).then_some(Ratio { ppm })
    }

    pub fn ppm(self) -> i64 {
        self.ppm
    }

    /// Parses `0.10`, `.1`, `0`, `1`: at most six decimals, between 0 and 1.
    pub fn parse(text: &str) -> Result<Ratio, String> {
        let bad = || "enter a number between 0 and 1, such as 0.10".to_string();
        match parse_scaled(text, 6) {
            Ok(ppm) => i64::try_from(ppm)
                .ok()
                .and_then(Ratio::from_ppm)
                .ok_or_else(bad),
            Err(DecimalError::TooManyPlaces) => {
                Err("use at most six decimals, such as 0.125".into())
            }
            Err(_) => Err(bad()),
        }
    }

    /// `amount × ratio`, rounded half up to the minor unit.
    pub fn apply(self, amount: Money) -> Money {
        // The same rounding in i64 when it fits, which is nearly always and much cheaper
        // than an i128 division.
        let twice_plus_one = amount
            .0
            .checked_mul(2 * self.ppm)
            .and_then(|twice| twice.checked_add(Self::ONE_PPM));
        if let Some(numerator) = twice_plus_one {
            return Money(numerator / (2 * Self::ONE_PPM));
        }
        let product = i128::from(amount.0) * i128::from(self.ppm);
        Money(div_round_half_up(product, i128::from(Self::ONE_PPM)) as i64)
    }
}

impl fmt::Display for Ratio {
    /// Shortest exact decimal with at least two places: `0.10`, `0.125`, `1.00`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let whole = self.ppm / Self::ONE_PPM;
        let mut frac = format!("{:06}", self.ppm % Self::ONE_PPM);
        while frac.len() > 2 && frac.ends_with('0') {
            frac.pop();
        }
        write!(f, "{whole}.{frac}")
    }
}

/// Why a decimal could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecimalError {
    Malformed,
    Negative,
    TooManyPlaces,
    TooLarge,
}

/// Parses a plain non-negative decimal (`12500`, `12500.5`, `.5`, `7.`) into an integer
/// scaled by `10^places`, exactly. No signs, exponents or separators.
pub fn parse_scaled(text: &str, places: u32) -> Result<i128, DecimalError> {
    let text = text.trim();
    if text.starts_with('-') {
        return Err(DecimalError::Negative);
    }
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    let digits_only = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && frac.is_empty()) || !digits_only(whole) || !digits_only(frac) {
        return Err(DecimalError::Malformed);
    }
    if frac.len() > places as usize {
        return Err(DecimalError::TooManyPlaces);
    }
    // More than 30 integer digits cannot fit any amount this product handles.
    if whole.len() > 30 {
        return Err(DecimalError::TooLarge);
    }
    let whole: i128 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| DecimalError::TooLarge)?
    };
    let frac_value: i128 = if frac.is_empty() {
        0
    } else {
        frac.parse().map_err(|_| DecimalError::Malformed)?
    };
    let scale = 10_i128.pow(places);
    let frac_scaled = frac_value * 10_i128.pow(places - frac.len() as u32);
    whole
        .checked_mul(scale)
        .and_then(|w| w.checked_add(frac_scaled))
        .ok_or(DecimalError::TooLarge)
}

/// `numerator / denominator` rounded half up, for non-negative operands and a positive
/// denominator.
pub fn div_round_half_up(numerator: i128, denominator: i128) -> i128 {
    (2 * numerator + denominator) / (2 * denominator)
}

/// An exact share `part / whole` in [0, 1]; `None` when `whole` is 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Share {
    pub part: i128,
    pub whole: i128,
}

impl Share {
    pub fn of(part: i64, whole: i64) -> Option<Share> {
        (whole != 0).then_some(Share {
            part: i128::from(part),
            whole: i128::from(whole),
        })
    }

    /// The share as a decimal string with four places, rounded half up: `0.2500`.
    pub fn to_decimal(self) -> String {
        let scaled = div_round_half_up(self.part * 10_000, self.whole);
        format!("{}.{:04}", scaled / 10_000, scaled % 10_000)
    }

    /// The share as a whole percentage for people, rounded half up: `25%`.
    pub fn percent(self) -> String {
        let mut text = String::with_capacity(5);
        text.push_str(itoa::Buffer::new().format(div_round_half_up(self.part * 100, self.whole)));
        text.push('%');
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JPY: Currency = Currency {
        code: "JPY",
        minor_units: 0,
    };

    #[test]
    fn amounts_parse_exactly_in_minor_units() {
        let cases = [
            ("12500", 1_250_000),
            ("12500.5", 1_250_050),
            ("12500.50", 1_250_050),
            ("0.01", 1),
            (".5", 50),
            ("7.", 700),
            (" 3 ", 300),
        ];
        for (text, minor) in cases {
            assert_eq!(
                Money::parse(text, Currency::USD),
                Ok(Money(minor)),
                "{text}"
            );
        }
    }

    #[test]
    fn bad_amounts_are_refused_with_a_reason() {
        for text in [
            "",
            "-5",
            "1,000",
            "12.345",
            "abc",
            "1e5",
            ".",
            "1.2.3",
            "99999999999999999999",
        ] {
            let err = Money::parse(text, Currency::USD).unwrap_err();
            assert!(!err.is_empty(), "{text}");
        }
        assert!(
            Money::parse("12.5", JPY)
                .unwrap_err()
                .contains("whole amount")
        );
        assert_eq!(Money::parse("12500", JPY), Ok(Money(12500)));
    }

    #[test]
    fn amounts_format_back_to_the_same_text() {
        assert_eq!(Money(1_250_050).to_decimal(Currency::USD), "12500.50");
        assert_eq!(Money(5).to_decimal(Currency::USD), "0.05");
        assert_eq!(Money(12500).to_decimal(JPY), "12500");
        assert_eq!(
            Money(123_456_789).display(Currency::USD),
            "USD 1,234,567.89"
        );
        assert_eq!(Money(1000).display(JPY), "JPY 1,000");
        assert_eq!(Money(-150).to_decimal(Currency::USD), "-1.50");
    }

    /// An amount as people read it, on the page and in `Display`.
    fn shown(minor: i64, currency: Currency) -> String {
        let mut page = String::from("<td>");
        Money(minor).shown(currency).write_to(&mut page).unwrap();
        let displayed = Money(minor).display(currency);
        assert_eq!(page[4..], displayed, "{minor} {currency:?}");
        displayed
    }

    #[test]
    fn amounts_are_shown_grouped_by_thousands_with_the_currency_decimals() {
        let bhd = Currency::parse("BHD").unwrap();
        let usd = Currency::USD;
        let cases = [
            (0, usd, "USD 0.00"),
            (1, usd, "USD 0.01"),
            (99_900, usd, "USD 999.00"),
            (99_999, usd, "USD 999.99"),
            (100_000, usd, "USD 1,000.00"),
            (1_250_050, usd, "USD 12,500.50"),
            (100_000_000, usd, "USD 1,000,000.00"),
            (100_000_000_000, usd, "USD 1,000,000,000.00"),
            (MAX_MINOR, usd, "USD 1,000,000,000,000.00"),
            (0, JPY, "JPY 0"),
            (1, JPY, "JPY 1"),
            (999, JPY, "JPY 999"),
            (1_000, JPY, "JPY 1,000"),
            (1_200, JPY, "JPY 1,200"),
            (1_000_000, JPY, "JPY 1,000,000"),
            (MAX_MINOR, JPY, "JPY 100,000,000,000,000"),
            (0, bhd, "BHD 0.000"),
            (1, bhd, "BHD 0.001"),
            (1_234_567, bhd, "BHD 1,234.567"),
            (-1, usd, "-USD 0.01"),
            (-150, usd, "-USD 1.50"),
            (-1_000, JPY, "-JPY 1,000"),
        ];
        for (minor, currency, text) in cases {
            assert_eq!(shown(minor, currency), text);
        }
    }

    /// The same text put together the plain way, with `core::fmt`.
    fn plainly_shown(minor: i64, currency: Currency) -> String {
        let unit = 10_u64.pow(currency.minor_units);
        let abs = minor.unsigned_abs();
        let whole = (abs / unit).to_string();
        let mut grouped = String::new();
        for (i, digit) in whole.chars().enumerate() {
            if i > 0 && (whole.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(digit);
        }
        let sign = if minor < 0 { "-" } else { "" };
        let decimals = match currency.minor_units {
            0 => String::new(),
            places => format!(".{:0width$}", abs % unit, width = places as usize),
        };
        format!("{sign}{} {grouped}{decimals}", currency.code)
    }

    #[test]
    fn every_amount_and_currency_shows_what_plain_formatting_gives() {
        let mut amounts = vec![i64::MAX, i64::MIN, MAX_MINOR, -MAX_MINOR];
        for power in 0..19 {
            let n = 10_i64.pow(power);
            for near in [n - 1, n, n + 1, 2 * n - 1, 5 * n + 7, 9 * n] {
                amounts.extend([near, -near]);
            }
        }
        for minor_units in [0, 1, 2, 3, 4, 5, 6, 7, 19] {
            let currency = Currency {
                code: "XTS",
                minor_units,
            };
            for &minor in &amounts {
                assert_eq!(shown(minor, currency), plainly_shown(minor, currency));
            }
        }
    }

    #[test]
    fn currencies_follow_iso_4217_minor_units() {
        assert_eq!(Currency::parse("usd").unwrap(), Currency::USD);
        assert_eq!(Currency::parse("JPY").unwrap().minor_units, 0);
        assert_eq!(Currency::parse("BHD").unwrap().minor_units, 3);
        assert!(Currency::parse("XAU").is_err());
        assert!(Currency::parse("ABC").is_err());
    }

    #[test]
    fn ratios_parse_between_zero_and_one() {
        assert_eq!(Ratio::parse("0.10").unwrap().ppm(), 100_000);
        assert_eq!(Ratio::parse(".125").unwrap().ppm(), 125_000);
        assert_eq!(Ratio::parse("1").unwrap().ppm(), 1_000_000);
        assert_eq!(Ratio::parse("0").unwrap().ppm(), 0);
        for bad in ["1.01", "-0.1", "", "0.1234567", "x", "2"] {
            assert!(Ratio::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Ratio::DEFAULT.to_string(), "0.10");
        assert_eq!(Ratio::parse("0.125").unwrap().to_string(), "0.125");
    }

    #[test]
    fn ratio_products_round_half_up_to_the_minor_unit() {
        let tenth = Ratio::DEFAULT;
        assert_eq!(tenth.apply(Money(15)), Money(2)); // 1.5 → 2
        assert_eq!(tenth.apply(Money(14)), Money(1)); // 1.4 → 1
        assert_eq!(tenth.apply(Money(25)), Money(3)); // 2.5 → 3
        assert_eq!(Ratio::parse("0.333333").unwrap().apply(Money(3)), Money(1));
        assert_eq!(
            Ratio::parse("1").unwrap().apply(Money(MAX_MINOR)),
            Money(MAX_MINOR)
        );
    }

    #[test]
    fn ratio_products_round_the_same_on_either_side_of_the_i64_shortcut() {
        for ppm in [1, 3, 100_000, 333_333, 999_999, 1_000_000] {
            let ratio = Ratio::from_ppm(ppm).unwrap();
            // Around the largest amount whose doubled product still fits an i64.
            let edge = (i64::MAX - Ratio::ONE_PPM) / (2 * ppm);
            for amount in [0, 1, 5, 15, edge - 1, edge, edge + 1, MAX_MINOR] {
                let exact = div_round_half_up(
                    i128::from(amount) * i128::from(ppm),
                    i128::from(Ratio::ONE_PPM),
                );
                assert_eq!(
                    i128::from(ratio.apply(Money(amount)).0),
                    exact,
                    "{amount} × {ppm} ppm"
                );
            }
        }
    }

    #[test]
    fn shares_are_exact_decimals() {
        assert_eq!(Share::of(1, 4).unwrap().to_decimal(), "0.2500");
        assert_eq!(Share::of(1, 3).unwrap().to_decimal(), "0.3333");
        assert_eq!(Share::of(2, 3).unwrap().to_decimal(), "0.6667");
        assert_eq!(Share::of(5, 5).unwrap().to_decimal(), "1.0000");
        assert_eq!(Share::of(1, 8).unwrap().percent(), "13%");
        assert_eq!(Share::of(1, 0), None);
    }
}
