//! One line for an error and its causes, as the binaries print it.
//!
//! The library errors name their path and, for readability when shown alone, often repeat
//! their cause's message (`{path}: {source}`) while also exposing it as the `source`.
//! Printing the whole chain would then say the same thing twice; this keeps each cause only
//! when its text is not already part of what was printed.

/// `error: cause: cause…`, without repeating a cause already contained in the text so far.
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut line = err.to_string();
    let mut cause = err.source();
    while let Some(c) = cause {
        let text = c.to_string();
        if !text.is_empty() && !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        cause = c.source();
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("/data/ride.fit: {source}")]
    struct Repeats {
        #[source]
        source: std::io::Error,
    }

    #[derive(Debug, thiserror::Error)]
    #[error("extracting dave")]
    struct Outer(#[source] Repeats);

    #[test]
    fn a_cause_already_in_the_message_is_not_repeated() {
        let e = Outer(Repeats { source: std::io::Error::other("permission denied") });
        assert_eq!(error_chain(&e), "extracting dave: /data/ride.fit: permission denied");
    }

    #[test]
    fn a_new_cause_is_appended() {
        #[derive(Debug, thiserror::Error)]
        #[error("rendering")]
        struct Plain(#[source] std::io::Error);
        let e = Plain(std::io::Error::other("disk full"));
        assert_eq!(error_chain(&e), "rendering: disk full");
    }
}
