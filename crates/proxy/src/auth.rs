//! The credential a standalone proxy demands (`stockade proxy`): a random
//! token, given as the password of HTTP `Proxy-Authorization: Basic` or of
//! SOCKS5 username/password authentication. A proxy started for a run
//! needs none: its listeners live in the sandbox's own network namespace,
//! which nothing outside the sandbox can reach.

use std::io::Read;

use base64::Engine;

/// The user name the proxy URLs carry (any is accepted).
pub const USER: &str = "stockade";

/// A per-proxy secret.
#[derive(Clone)]
pub struct Credential {
    token: String,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Credential(..)")
    }
}

impl Credential {
    /// A new random token: 128 bits from the kernel, in hex.
    pub fn generate() -> std::io::Result<Credential> {
        let mut bytes = [0u8; 16];
        std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
        Ok(Credential {
            token: bytes.iter().map(|b| format!("{b:02x}")).collect(),
        })
    }

    /// The token, for the proxy URLs printed to the user.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Whether a `Proxy-Authorization` header value carries the token.
    pub fn admits_header(&self, value: Option<&[u8]>) -> bool {
        let Some(encoded) = value.and_then(|v| v.strip_prefix(b"Basic ")) else {
            return false;
        };
        let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(encoded.trim_ascii())
        else {
            return false;
        };
        match decoded.iter().position(|&b| b == b':') {
            Some(colon) => self.admits_password(&decoded[colon + 1..]),
            None => false,
        }
    }

    /// Whether `password` is the token (compared in constant time).
    pub fn admits_password(&self, password: &[u8]) -> bool {
        let token = self.token.as_bytes();
        password.len() == token.len()
            && password
                .iter()
                .zip(token)
                .fold(0u8, |diff, (a, b)| diff | (a ^ b))
                == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_token_is_admitted() {
        let c = Credential::generate().unwrap();
        assert_eq!(c.token().len(), 32);
        let good =
            base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{}", c.token()));
        assert!(c.admits_header(Some(format!("Basic {good}").as_bytes())));
        let bad = base64::engine::general_purpose::STANDARD
            .encode(format!("{USER}:x{}", &c.token()[1..]));
        assert!(!c.admits_header(Some(format!("Basic {bad}").as_bytes())));
        assert!(!c.admits_header(None));
        assert!(!c.admits_header(Some(b"Bearer abc")));
        assert!(c.admits_password(c.token().as_bytes()));
        assert!(!c.admits_password(b""));
        assert_ne!(Credential::generate().unwrap().token(), c.token());
    }
}
