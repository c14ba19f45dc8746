//! Where a byte offset falls in a text file: the 1-based line and column (in characters) that
//! every error about a connector, a model or the schema names.

/// Line and column (1-based) of a byte offset in `text`; an offset past the end is the end.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = &text[..end];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map(|l| l.chars().count()).unwrap_or(0) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use crate::position::line_col;

    #[test]
    fn lines_and_columns_count_characters_not_bytes() {
        let text = "name = \"x\"\n标题 = \"低保\"\n";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, text.find("标题").unwrap()), (2, 1));
        assert_eq!(line_col(text, text.find('=').unwrap()), (1, 6));
        assert_eq!(line_col(text, text.rfind('=').unwrap()), (2, 4));
        // inside a character and past the end: no panic, the nearest position before
        assert_eq!(line_col(text, text.find("标题").unwrap() + 1), (2, 1));
        assert_eq!(line_col(text, 10_000), (3, 1));
    }
}
