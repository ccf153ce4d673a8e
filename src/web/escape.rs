//! HTML escaping for markup written by hand rather than by a template (the scorecard's
//! table rows) and for text escaped once per page, with the entities askama writes, so
//! both produce the same bytes.
//!
//! Almost every text people type needs no escaping, so the check comes first and is
//! written to compile to vector compares; such a text then goes to the page in one write.

/// Appends `text` to `html` with `<`, `>`, `&`, `"` and `'` replaced by entities, so it
/// is safe inside an element and inside a quoted attribute.
#[inline(always)]
pub fn push_escaped(html: &mut String, text: &str) {
    if needs_escaping(text.as_bytes()) {
        push_with_entities(html, text);
    } else {
        html.push_str(text);
    }
}

/// Text checked once with `is_plain`, to be written more than once.
#[derive(Clone, Copy)]
pub struct Checked<'a> {
    text: &'a str,
    plain: bool,
}

/// Checks `text` for bytes that need escaping.
#[inline(always)]
pub fn checked(text: &str) -> Checked<'_> {
    Checked {
        text,
        plain: !needs_escaping(text.as_bytes()),
    }
}

/// Appends checked text as `push_escaped` would, without checking it again.
#[inline(always)]
pub fn push_checked(html: &mut String, text: Checked<'_>) {
    if text.plain {
        html.push_str(text.text);
    } else {
        push_with_entities(html, text.text);
    }
}

#[cold]
#[inline(never)]
fn push_with_entities(html: &mut String, text: &str) {
    let mut plain = 0;
    for (at, byte) in text.bytes().enumerate() {
        let entity = match byte {
            b'"' => "&#34;",
            b'&' => "&#38;",
            b'\'' => "&#39;",
            b'<' => "&#60;",
            b'>' => "&#62;",
            _ => continue,
        };
        // Every special byte is ASCII, so `plain..at` ends on a character boundary.
        html.push_str(&text[plain..at]);
        html.push_str(entity);
        plain = at + 1;
    }
    html.push_str(&text[plain..]);
}

/// Text escaped once, for a page that shows it many times: the link base is in nearly
/// every link of the scorecard page. Templates write it as it is.
pub struct Escaped(String);

impl Escaped {
    pub fn new(text: &str) -> Escaped {
        let mut html = String::with_capacity(text.len());
        push_escaped(&mut html, text);
        Escaped(html)
    }

    /// The escaped text, ready to go into HTML.
    pub fn as_html(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Escaped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl askama::FastWritable for Escaped {
    /// Rendered by `PageHtml`, straight into the page's buffer.
    fn write_into(
        &self,
        dest: &mut dyn std::fmt::Write,
        values: &dyn askama::Values,
    ) -> askama::Result<()> {
        match crate::web::page::lent(values) {
            Some(mut html) => html.push_str(&self.0),
            None => dest.write_str(&self.0)?,
        }
        Ok(())
    }
}

/// Escaped when made.
impl askama::filters::HtmlSafe for Escaped {}

/// The width of one check: an SSE2 register, which every x86-64 has.
const LANES: usize = 16;

/// Whether any byte is one that `push_escaped` replaces. A block of 16 bytes at a time,
/// each checked without a branch so it compiles to a few vector instructions; the last
/// block of a longer text overlaps the one before it. A shorter text is read as two
/// words, which may overlap too, and checked with integer arithmetic.
#[inline(always)]
fn needs_escaping(bytes: &[u8]) -> bool {
    let (blocks, rest) = bytes.as_chunks::<LANES>();
    for block in blocks {
        // Leaving early also keeps the compiler from vectorising across blocks, which
        // would gather one byte from each and lose the vector compare within a block.
        if block_has_special(block) {
            return true;
        }
    }
    if rest.is_empty() {
        return false;
    }
    if let Some(last) = bytes.last_chunk::<LANES>() {
        return block_has_special(last);
    }
    let (first, last) = match (bytes.first_chunk::<8>(), bytes.last_chunk::<8>()) {
        (Some(first), Some(last)) => (u64::from_le_bytes(*first), u64::from_le_bytes(*last)),
        _ => match (bytes.first_chunk::<4>(), bytes.last_chunk::<4>()) {
            (Some(first), Some(last)) => (
                u64::from(u32::from_le_bytes(*first)),
                u64::from(u32::from_le_bytes(*last)),
            ),
            // One to three bytes: the first, the middle and the last are all of them.
            _ => {
                let [first, middle, last] = [0, bytes.len() / 2, bytes.len() - 1].map(|i| bytes[i]);
                (u64::from_le_bytes([first, middle, last, 0, 0, 0, 0, 0]), 0)
            }
        },
    };
    word_has_special(first) | word_has_special(last)
}

// A byte XOR the special byte it may be is 0 only when it is that byte. `| 1` maps `&`
// (0x26) onto `'` (0x27) and `| 2` maps `<` (0x3C) onto `>` (0x3E) without taking in
// any other byte, so three such distances cover the five special bytes.

#[inline(always)]
fn block_has_special(block: &[u8; LANES]) -> bool {
    // The smallest distance per byte, then one test for a 0 among them: written as
    // compares joined by `|`, the compiler turns the test into a branchy bit test per
    // byte instead of vector compares.
    let mut distance = [0_u8; LANES];
    for (d, &b) in distance.iter_mut().zip(block) {
        *d = (b ^ b'"').min((b | 1) ^ b'\'').min((b | 2) ^ b'>');
    }
    distance.iter().fold(false, |found, &d| found | (d == 0))
}

#[inline(always)]
fn word_has_special(word: u64) -> bool {
    const ONES: u64 = u64::MAX / 255;
    // Non-zero exactly when some byte of `x` is 0.
    let zero_byte = |x: u64| x.wrapping_sub(ONES) & !x & (ONES << 7);
    let distances = [
        word ^ (ONES * u64::from(b'"')),
        (word | ONES) ^ (ONES * u64::from(b'\'')),
        (word | (ONES * 2)) ^ (ONES * u64::from(b'>')),
    ];
    distances
        .into_iter()
        .fold(0, |found, x| found | zero_byte(x))
        != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escaped(text: &str) -> String {
        let mut html = String::new();
        push_escaped(&mut html, text);
        html
    }

    #[test]
    fn checked_text_is_written_as_push_escaped_writes_it_every_time() {
        for text in ["", "plain text", "Ops & <Claims>", "a'b\"c", "≥ 5 €"] {
            let once = checked(text);
            let mut html = String::new();
            push_checked(&mut html, once);
            push_checked(&mut html, once);
            assert_eq!(html, escaped(text).repeat(2), "{text:?}");
        }
    }

    /// What the templates write for the same text.
    fn askama_escaped(text: &str) -> String {
        askama::filters::escape(text, askama::filters::Html)
            .map(|safe| safe.to_string())
            .unwrap_or_default()
    }

    #[test]
    fn every_special_character_becomes_the_entity_the_templates_write() {
        assert_eq!(escaped("<"), "&#60;");
        assert_eq!(escaped(">"), "&#62;");
        assert_eq!(escaped("&"), "&#38;");
        assert_eq!(escaped("\""), "&#34;");
        assert_eq!(escaped("'"), "&#39;");
        let attack = "<script>alert('x' && \"y\")</script>";
        assert_eq!(
            escaped(attack),
            "&#60;script&#62;alert(&#39;x&#39; &#38;&#38; &#34;y&#34;)&#60;/script&#62;"
        );
        assert_eq!(escaped(attack), askama_escaped(attack));
    }

    #[test]
    fn text_without_special_characters_is_written_unchanged() {
        for text in [
            "",
            "a",
            "ab",
            "abc",
            "Claims",
            "Claims backlog / team 7 (EMEA)",
            "Zürich → 東京 😀",
            // Neighbours of the special bytes, and bytes of multibyte characters.
            ";=?%!#()[]{}`~\\/ é",
            "\u{0}\u{1}\t\n",
        ] {
            assert_eq!(escaped(text), text);
        }
        let long = "Summarise the support tickets of the week ".repeat(40);
        assert_eq!(escaped(&long), long);
    }

    #[test]
    fn multibyte_characters_next_to_special_ones_stay_whole() {
        assert_eq!(escaped("é<ü>😀&"), "é&#60;ü&#62;😀&#38;");
        assert_eq!(escaped("東京'大阪'"), "東京&#39;大阪&#39;");
        assert_eq!(escaped("→\"→"), "→&#34;→");
    }

    #[test]
    fn a_special_character_is_found_at_every_position_of_every_length() {
        // Lengths around the 4- and 8-byte words and the 16-byte blocks the check reads,
        // each special character at every position.
        for len in (1..=70).chain([127, 128, 129, 255, 256, 257, 1000]) {
            for at in 0..len {
                for special in ['<', '>', '&', '"', '\''] {
                    let mut text = "x".repeat(len);
                    text.replace_range(at..=at, &special.to_string());
                    let out = escaped(&text);
                    assert_eq!(out, askama_escaped(&text), "{len} {at} {special}");
                    assert_eq!(out.len(), len + 4, "{len} {at} {special}");
                }
            }
        }
    }

    #[test]
    fn a_special_character_right_after_16_or_32_bytes_or_at_the_very_end_is_escaped() {
        let x16 = "x".repeat(16);
        assert_eq!(escaped(&format!("{x16}<")), format!("{x16}&#60;"));
        let y32 = "y".repeat(32);
        assert_eq!(escaped(&format!("{y32}\"")), format!("{y32}&#34;"));
        assert_eq!(escaped(&format!("{y32}>{x16}")), format!("{y32}&#62;{x16}"));
        let z1000 = "z".repeat(1000);
        assert_eq!(escaped(&format!("{z1000}'")), format!("{z1000}&#39;"));
        assert_eq!(escaped(&format!("&{z1000}")), format!("&#38;{z1000}"));
    }

    #[test]
    fn text_of_any_mix_matches_the_templates() {
        // Every string of up to three characters over an alphabet of the special bytes,
        // their neighbours and multibyte characters, then longer mixes of them.
        let alphabet = ["<", ">", "&", "\"", "'", "=", ";", "a", "é", "→", "😀"];
        let mut texts = vec![String::new()];
        for _ in 0..3 {
            let longer: Vec<String> = texts
                .iter()
                .flat_map(|t| alphabet.iter().map(move |c| format!("{t}{c}")))
                .collect();
            texts.extend(longer);
        }
        for (i, t) in texts.clone().iter().enumerate().step_by(7) {
            texts.push(format!("{t}{}{t}", "m".repeat(i % 40)));
        }
        for text in &texts {
            assert_eq!(escaped(text), askama_escaped(text), "{text:?}");
        }
    }

    #[test]
    fn text_escaped_once_is_written_by_templates_as_it_is() {
        #[derive(askama::Template)]
        #[template(source = "<a href=\"{{ base }}/x\">{{ base }}</a>", ext = "html")]
        struct Link {
            base: Escaped,
        }
        let base = Escaped::new("/s/a&b<c>");
        assert_eq!(base.as_html(), "/s/a&#38;b&#60;c&#62;");
        let link = Link { base };
        assert_eq!(
            askama::Template::render(&link).unwrap(),
            "<a href=\"/s/a&#38;b&#60;c&#62;/x\">/s/a&#38;b&#60;c&#62;</a>"
        );
    }

    #[test]
    fn escaping_appends_to_what_is_there() {
        let mut html = String::from("<td>");
        push_escaped(&mut html, "a<b");
        push_escaped(&mut html, "");
        push_escaped(&mut html, "c");
        assert_eq!(html, "<td>a&#60;bc");
    }
}
