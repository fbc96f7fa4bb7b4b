//! The one percent-encoder for values the browser puts in a query string (`?next=`, upload names, the
//! event stream's episode filter).

/// Percent-encodes everything but RFC 3986's unreserved characters and `/` (which a query value may
/// hold as it is, and which keeps `?next=/episodes/x` readable).
pub fn encode_query_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::encode_query_value;

    #[test]
    fn reserved_and_non_ascii_bytes_are_escaped() {
        assert_eq!(encode_query_value("/episodes/a_b-1"), "/episodes/a_b-1");
        assert_eq!(encode_query_value("a b&c=d?é"), "a%20b%26c%3Dd%3F%C3%A9");
    }
}
