//! The buffer a page is rendered into, lent to the parts of it written by hand.
//!
//! askama writes through `&mut dyn fmt::Write`, a dynamic call per piece. A page rendered
//! with `PageHtml` also passes its buffer in askama's runtime values, so a hand-written
//! part (the scorecard's table rows, amounts) finds it and appends to it directly, in
//! plain `String` pushes. Rendered any other way, those parts fall back to the writer.

use std::any::Any;
use std::cell::{RefCell, RefMut};
use std::fmt;

/// A page being rendered: askama writes into it, and it is also the values askama passes
/// down to what the template writes.
pub struct PageHtml(RefCell<String>);

const KEY: &str = "page_html";

impl PageHtml {
    pub fn with_capacity(bytes: usize) -> PageHtml {
        PageHtml(RefCell::new(String::with_capacity(bytes)))
    }

    pub fn into_string(self) -> String {
        self.0.into_inner()
    }
}

impl fmt::Write for &PageHtml {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.try_borrow_mut().map_err(|_| fmt::Error)?.push_str(s);
        Ok(())
    }
}

impl askama::Values for PageHtml {
    fn get_value<'a>(&'a self, key: &str) -> Option<&'a dyn Any> {
        (key == KEY).then_some(&self.0 as &dyn Any)
    }
}

/// The page's buffer, when the page is rendered with `PageHtml`.
pub fn lent(values: &dyn askama::Values) -> Option<RefMut<'_, String>> {
    askama::get_value::<RefCell<String>>(values, KEY)
        .ok()?
        .try_borrow_mut()
        .ok()
}

#[cfg(test)]
mod tests {
    use std::fmt::Write;

    use super::*;

    #[test]
    fn what_is_written_and_what_is_appended_to_the_lent_buffer_make_one_page() {
        let page = PageHtml::with_capacity(16);
        (&page).write_str("<p>").unwrap();
        lent(&page).unwrap().push_str("lent");
        (&page).write_str("</p>").unwrap();
        assert_eq!(page.into_string(), "<p>lent</p>");
        assert!(lent(&()).is_none());
    }
}
