//! What the command-line tools share: printing an error with its causes.

/// The lines to print for an error: its message, then each cause that
/// adds something (error types that include their source in their own
/// message would otherwise print the same text several times).
pub fn error_lines(e: &anyhow::Error) -> Vec<String> {
    let mut lines = vec![format!("error: {e}")];
    let mut shown = e.to_string();
    for cause in e.chain().skip(1) {
        let text = cause.to_string();
        if !shown.contains(&text) {
            lines.push(format!("  caused by: {text}"));
            shown.push('\n');
            shown.push_str(&text);
        }
    }
    lines
}

/// Prints [`error_lines`] to stderr, each prefixed with `prefix` if given.
pub fn print_error(prefix: &str, e: &anyhow::Error) {
    for line in error_lines(e) {
        eprintln!("{prefix}{line}");
    }
}

#[cfg(test)]
mod tests {
    use super::error_lines;

    #[derive(Debug, thiserror::Error)]
    #[error("outer: {0}")]
    struct Outer(#[source] Inner);
    #[derive(Debug, thiserror::Error)]
    #[error("inner detail")]
    struct Inner;

    #[test]
    fn repeated_causes_are_printed_once() {
        let e = anyhow::Error::new(Outer(Inner));
        assert_eq!(error_lines(&e), vec!["error: outer: inner detail"]);
        let e = anyhow::Error::new(Inner).context("while doing x");
        assert_eq!(
            error_lines(&e),
            vec!["error: while doing x", "  caused by: inner detail"]
        );
    }
}
