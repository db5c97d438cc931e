//! Naming the field of a JSON error: serde_json reports a wrong type by
//! line and column only ("invalid type: string, expected a sequence at
//! line 1 column 565"); the key whose value starts before that position is
//! the field a user has to fix.

/// The key of the innermost `"key":` before `line`/`column` (1-based, as
/// serde_json reports them) in `text`, if any.
pub fn field_at(text: &[u8], line: usize, column: usize) -> Option<String> {
    let mut offset = 0;
    for (i, l) in text.split(|b| *b == b'\n').enumerate() {
        if i + 1 == line {
            offset += column.min(l.len());
            break;
        }
        offset += l.len() + 1;
    }
    let before = std::str::from_utf8(&text[..offset.min(text.len())]).ok()?;
    // The last `":` before the position closes the key's string.
    let colon = before.rfind("\":")?;
    let open = before[..colon].rfind('"')?;
    Some(before[open + 1..colon].to_string())
}

/// A serde_json error as a message that names the field where it can.
pub fn describe(text: &[u8], e: &serde_json::Error) -> String {
    match field_at(text, e.line(), e.column()) {
        Some(f) if e.is_data() => format!("field `{f}`: {e}"),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_field_of_a_type_error() {
        let text = br#"{"format": 3, "hidden": "wide", "scale": 0.01}"#;
        let e = serde_json::from_slice::<serde_json::Value>(text)
            .map(|_| ())
            .err();
        assert!(e.is_none());
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct C {
            format: u32,
            hidden: Vec<usize>,
            scale: f64,
        }
        let e = serde_json::from_slice::<C>(text).unwrap_err();
        assert!(
            describe(text, &e).starts_with("field `hidden`"),
            "{}",
            describe(text, &e)
        );
        let text = b"{\n  \"format\": 3,\n  \"hidden\": [32, 32],\n  \"scale\": \"x\"\n}";
        let e = serde_json::from_slice::<C>(text).unwrap_err();
        assert!(
            describe(text, &e).starts_with("field `scale`"),
            "{}",
            describe(text, &e)
        );
    }
}
