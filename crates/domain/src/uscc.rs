//! The Unified Social Credit Code (统一社会信用代码, GB 32100-2015).
//!
//! Eighteen characters over a 31-symbol alphabet (no I, O, S, V, Z):
//! position 1 the registration authority, 2 the entity category, 3–8 the administrative
//! division, 9–17 the organization code (GB 11714, whose 17th character is its own check
//! character) and 18 the check character of the whole code.
//!
//! Some early pilot codes are legally valid yet fail a checksum. [`Uscc::parse_with_override`]
//! accepts those, and only those, and says so with a [`UsccWarning`] the caller must record.

use std::fmt;

/// The 31 symbols of the code, in value order.
const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
/// Weights of positions 1–17: `3^(i-1) mod 31`.
const WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
/// Weights of the eight body characters of the organization code.
const ORG_WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];

/// A validated Unified Social Credit Code, stored upper-case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Uscc(String);

/// Why a string is not a Unified Social Credit Code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsccError {
    /// Not 18 characters long.
    #[error("a USCC has 18 characters, this one has {0}")]
    WrongLength(usize),
    /// A character outside `0-9 A-H J-N P-R T U W-Y`.
    #[error(
        "character {found:?} at position {position} is not in the USCC alphabet (digits and capital letters except I, O, S, V, Z)"
    )]
    BadCharacter {
        /// 1-based position.
        position: usize,
        /// The offending character.
        found: char,
    },
    /// The organization code's own check character (position 17) is wrong.
    #[error("organization-code check character at position 17 should be {expected:?}, found {found:?}")]
    OrganizationCheck {
        /// What the checksum gives.
        expected: char,
        /// What the code has.
        found: char,
    },
    /// The code's check character (position 18) is wrong.
    #[error("check character at position 18 should be {expected:?}, found {found:?}")]
    Check {
        /// What the checksum gives.
        expected: char,
        /// What the code has.
        found: char,
    },
}

impl UsccError {
    /// True for a checksum failure, the only kind an override may accept.
    pub fn is_checksum(&self) -> bool {
        matches!(self, Self::OrganizationCheck { .. } | Self::Check { .. })
    }
}

/// A code accepted by override although a checksum fails; must be recorded with the code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsccWarning(pub UsccError);

impl fmt::Display for UsccWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "accepted by override although {}", self.0)
    }
}

fn value_of(c: char) -> Option<u32> {
    let b = u8::try_from(c).ok()?;
    ALPHABET.iter().position(|&a| a == b).and_then(|p| u32::try_from(p).ok())
}

fn symbol_of(value: u32) -> char {
    ALPHABET[value as usize % ALPHABET.len()] as char
}

/// Organization-code characters: digits are their value, letters A–Z are 10–35.
fn org_value(c: char) -> u32 {
    match c {
        '0'..='9' => c as u32 - '0' as u32,
        'A'..='Z' => c as u32 - 'A' as u32 + 10,
        _ => 0,
    }
}

fn org_check(body: &[char]) -> char {
    let sum: u32 = body.iter().zip(ORG_WEIGHTS).map(|(&c, w)| org_value(c) * w).sum();
    match 11 - sum % 11 {
        10 => 'X',
        11 => '0',
        n => char::from_digit(n, 10).unwrap_or('0'),
    }
}

fn code_check(first17: &[char]) -> char {
    let sum: u32 = first17.iter().zip(WEIGHTS).map(|(&c, w)| value_of(c).unwrap_or(0) * w).sum();
    symbol_of((31 - sum % 31) % 31)
}

impl Uscc {
    /// Parses and fully validates a code (surrounding whitespace ignored, case-insensitive).
    pub fn parse(input: &str) -> Result<Self, UsccError> {
        let chars = Self::shape(input)?;
        Self::checksums(&chars)?;
        Ok(Self(chars.into_iter().collect()))
    }

    /// Parses a code, accepting one whose only fault is a checksum (early pilot codes),
    /// and returns the warning to record beside it. Length and alphabet are never waived.
    pub fn parse_with_override(input: &str) -> Result<(Self, Option<UsccWarning>), UsccError> {
        let chars = Self::shape(input)?;
        let warning = Self::checksums(&chars).err().map(UsccWarning);
        Ok((Self(chars.into_iter().collect()), warning))
    }

    /// Builds the valid code that starts with these 17 characters (for synthetic data).
    pub fn complete(first17: &str) -> Result<Self, UsccError> {
        let mut chars = Self::shape_len(first17, 17)?;
        let expected = org_check(&chars[8..16]);
        chars[16] = expected;
        let check = code_check(&chars);
        chars.push(check);
        Ok(Self(chars.into_iter().collect()))
    }

    /// The code as 18 upper-case characters.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn shape(input: &str) -> Result<Vec<char>, UsccError> {
        Self::shape_len(input, 18)
    }

    fn shape_len(input: &str, len: usize) -> Result<Vec<char>, UsccError> {
        let chars: Vec<char> = input.trim().chars().map(|c| c.to_ascii_uppercase()).collect();
        if chars.len() != len {
            return Err(UsccError::WrongLength(chars.len()));
        }
        if let Some((i, &c)) = chars.iter().enumerate().find(|(_, c)| value_of(**c).is_none()) {
            return Err(UsccError::BadCharacter { position: i + 1, found: c });
        }
        Ok(chars)
    }

    fn checksums(chars: &[char]) -> Result<(), UsccError> {
        let expected = org_check(&chars[8..16]);
        if chars[16] != expected {
            return Err(UsccError::OrganizationCheck { expected, found: chars[16] });
        }
        let expected = code_check(&chars[..17]);
        if chars[17] != expected {
            return Err(UsccError::Check { expected, found: chars[17] });
        }
        Ok(())
    }
}

impl fmt::Display for Uscc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for Uscc {
    type Err = UsccError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_from_the_brief_are_valid() {
        for code in ["914403001922038216", "91110108551385082Q"] {
            assert_eq!(Uscc::parse(code).map(|u| u.to_string()), Ok(code.to_string()));
        }
    }

    #[test]
    fn lower_case_and_whitespace_are_normalised() {
        let uscc = Uscc::parse(" 91110108551385082q ").expect("valid code");
        assert_eq!(uscc.as_str(), "91110108551385082Q");
    }

    #[test]
    fn a_wrong_check_character_is_rejected_with_the_expected_one() {
        assert_eq!(Uscc::parse("91110108551385082A"), Err(UsccError::Check { expected: 'Q', found: 'A' }));
        assert_eq!(Uscc::parse("914403001922038210"), Err(UsccError::Check { expected: '6', found: '0' }));
    }

    #[test]
    fn a_wrong_organization_check_character_is_rejected() {
        assert_eq!(Uscc::parse("914403001922038226"), Err(UsccError::OrganizationCheck { expected: '1', found: '2' }));
    }

    #[test]
    fn letters_outside_the_alphabet_are_rejected_with_their_position() {
        for (code, position, found) in [
            ("9144030019220382I6", 17, 'I'),
            ("O14403001922038216", 1, 'O'),
            ("91440300192203821S", 18, 'S'),
            ("9144030019220V8216", 14, 'V'),
            ("91440300192Z038216", 12, 'Z'),
            ("9144030019220-8216", 14, '-'),
            ("91440300192203821我", 18, '我'),
        ] {
            assert_eq!(Uscc::parse(code), Err(UsccError::BadCharacter { position, found }), "{code}");
        }
    }

    #[test]
    fn wrong_lengths_are_rejected() {
        assert_eq!(Uscc::parse(""), Err(UsccError::WrongLength(0)));
        assert_eq!(Uscc::parse("91440300192203821"), Err(UsccError::WrongLength(17)));
        assert_eq!(Uscc::parse("9144030019220382161"), Err(UsccError::WrongLength(19)));
    }

    #[test]
    fn a_pilot_code_needs_the_override_and_carries_a_warning() {
        let pilot = "91350203M0001FUE2P";
        let err = Uscc::parse(pilot).expect_err("pilot code fails its checksum");
        assert!(err.is_checksum());
        let (uscc, warning) = Uscc::parse_with_override(pilot).expect("accepted by override");
        assert_eq!(uscc.as_str(), pilot);
        assert_eq!(warning.map(|w| w.0), Some(err));
    }

    #[test]
    fn the_override_never_waives_shape() {
        assert_eq!(Uscc::parse_with_override("9135"), Err(UsccError::WrongLength(4)));
        assert!(matches!(
            Uscc::parse_with_override("91350203M0001FUEIP"),
            Err(UsccError::BadCharacter { position: 17, .. })
        ));
    }

    #[test]
    fn a_valid_code_passes_the_override_without_warning() {
        let (_, warning) = Uscc::parse_with_override("914403001922038216").expect("valid");
        assert_eq!(warning, None);
    }

    #[test]
    fn completed_codes_pass_validation() {
        assert_eq!(Uscc::complete("91440300192203821").map(|u| u.to_string()), Ok("914403001922038216".to_string()));
        for prefix in ["91420100MA4K00001", "12420100000000000", "Y1420111AB0000000"] {
            let uscc = Uscc::complete(prefix).expect("completes");
            assert_eq!(Uscc::parse(uscc.as_str()), Ok(uscc.clone()), "{prefix}");
        }
    }
}
