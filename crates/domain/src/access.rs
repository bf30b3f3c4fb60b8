//! Who may read what: roles, scopes, and the scopes each role may hold.
//!
//! A token carries one role and a set of scopes. The role is a ceiling: a token may be
//! issued with fewer scopes than its role allows (a partner limited to parks), never more.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use crate::kinds::UnknownCode;

/// The caller's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Manages tokens and reads everything.
    Admin,
    /// Curates records; reads everything.
    Editor,
    /// Investment-promotion staff: reads everything, internal fields included.
    Analyst,
    /// A partner organization: reads public data within its scopes.
    Partner,
    /// No token: public data only.
    Anonymous,
}

impl Role {
    /// Roles a token can be issued for (anonymous has no token).
    pub const ISSUABLE: [Self; 4] = [Self::Admin, Self::Editor, Self::Analyst, Self::Partner];

    /// The stable code.
    pub const fn code(self) -> &'static str {
        match self {
            Self::Admin => "ADMIN",
            Self::Editor => "EDITOR",
            Self::Analyst => "ANALYST",
            Self::Partner => "PARTNER",
            Self::Anonymous => "ANONYMOUS",
        }
    }

    /// The scopes this role may hold: its ceiling.
    pub fn allowed_scopes(self) -> BTreeSet<Scope> {
        let mut scopes: BTreeSet<Scope> = Scope::READ_FAMILIES.into_iter().collect();
        match self {
            Self::Admin => scopes.extend(Scope::ALL),
            Self::Editor => {
                scopes.extend([Scope::ReadInternal, Scope::Export, Scope::WriteRegistry, Scope::ReadChanges]);
            }
            Self::Analyst => scopes.extend([Scope::ReadInternal, Scope::Export, Scope::ReadChanges]),
            Self::Partner => scopes.extend([Scope::Export, Scope::ReadChanges]),
            Self::Anonymous => {}
        }
        scopes
    }

    /// The scopes a token of this role gets when none are asked for: everything it may
    /// hold, except what must be granted on purpose (`read:changes` for a partner, whose
    /// sync from the change feed is agreed, not implied).
    pub fn default_scopes(self) -> BTreeSet<Scope> {
        let mut scopes = self.allowed_scopes();
        if self == Self::Partner {
            scopes.remove(&Scope::ReadChanges);
        }
        scopes
    }

    /// True for staff roles, who may be granted internal fields.
    pub const fn is_staff(self) -> bool {
        matches!(self, Self::Admin | Self::Editor | Self::Analyst)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Role {
    type Err = UnknownCode;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        Self::ISSUABLE.into_iter().chain([Self::Anonymous]).find(|r| r.code().eq_ignore_ascii_case(wanted)).ok_or_else(
            || UnknownCode {
                vocabulary: "role",
                value: s.to_string(),
                expected: "ADMIN, EDITOR, ANALYST, PARTNER".into(),
            },
        )
    }
}

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// Read parks and their designations.
    ReadParks,
    /// Read organizations and their designations.
    ReadOrganizations,
    /// Read incubators and incubations.
    ReadIncubators,
    /// Read innovation centers and memberships.
    ReadInnovationCenters,
    /// Read second headquarters.
    ReadSecondHeadquarters,
    /// Read internal fields (contacts, staff notes).
    ReadInternal,
    /// Bulk export.
    Export,
    /// Create and change registry records.
    WriteRegistry,
    /// Issue, list and revoke tokens.
    AdminTokens,
    /// Read the audit trail.
    AdminAudit,
    /// Read the change feed (`changes`): every change to the registry, in order, for
    /// partners that keep a copy in sync.
    ReadChanges,
}

impl Scope {
    /// Every scope.
    pub const ALL: [Self; 11] = [
        Self::ReadParks,
        Self::ReadOrganizations,
        Self::ReadIncubators,
        Self::ReadInnovationCenters,
        Self::ReadSecondHeadquarters,
        Self::ReadInternal,
        Self::Export,
        Self::WriteRegistry,
        Self::AdminTokens,
        Self::AdminAudit,
        Self::ReadChanges,
    ];

    /// The per-family read scopes.
    pub const READ_FAMILIES: [Self; 5] = [
        Self::ReadParks,
        Self::ReadOrganizations,
        Self::ReadIncubators,
        Self::ReadInnovationCenters,
        Self::ReadSecondHeadquarters,
    ];

    /// The stable code, as written in tokens.
    pub const fn code(self) -> &'static str {
        match self {
            Self::ReadParks => "read:parks",
            Self::ReadOrganizations => "read:organizations",
            Self::ReadIncubators => "read:incubators",
            Self::ReadInnovationCenters => "read:innovation-centers",
            Self::ReadSecondHeadquarters => "read:second-headquarters",
            Self::ReadInternal => "read:internal",
            Self::Export => "export",
            Self::WriteRegistry => "write:registry",
            Self::AdminTokens => "admin:tokens",
            Self::AdminAudit => "admin:audit",
            Self::ReadChanges => "read:changes",
        }
    }

    /// Parses a space- or comma-separated list of scope codes.
    pub fn parse_list(list: &str) -> Result<BTreeSet<Self>, UnknownCode> {
        list.split(|c: char| c == ',' || c.is_whitespace()).filter(|s| !s.is_empty()).map(str::parse).collect()
    }

    /// Writes scopes as the space-separated list tokens carry.
    pub fn join(scopes: &BTreeSet<Self>) -> String {
        scopes.iter().map(|s| s.code()).collect::<Vec<_>>().join(" ")
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Scope {
    type Err = UnknownCode;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        Self::ALL.into_iter().find(|v| v.code().eq_ignore_ascii_case(wanted)).ok_or_else(|| UnknownCode {
            vocabulary: "scope",
            value: s.to_string(),
            expected: Self::ALL.iter().map(|v| v.code()).collect::<Vec<_>>().join(", "),
        })
    }
}

/// Scopes asked for beyond what the role allows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("role {role} may not hold {}", .beyond.iter().map(|s| s.code()).collect::<Vec<_>>().join(", "))]
pub struct ScopeCeiling {
    /// The role.
    pub role: Role,
    /// The scopes it may not hold.
    pub beyond: Vec<Scope>,
}

/// The scopes a new token gets: those asked for (the role's [`Role::default_scopes`]
/// when none are asked for), checked against the role's ceiling.
pub fn grant(role: Role, asked: Option<BTreeSet<Scope>>) -> Result<BTreeSet<Scope>, ScopeCeiling> {
    let allowed = role.allowed_scopes();
    match asked {
        None => Ok(role.default_scopes()),
        Some(asked) => {
            let beyond: Vec<Scope> = asked.difference(&allowed).copied().collect();
            if beyond.is_empty() { Ok(asked) } else { Err(ScopeCeiling { role, beyond }) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_are_case_insensitive() {
        assert_eq!("partner".parse::<Role>(), Ok(Role::Partner));
        assert_eq!("Admin".parse::<Role>(), Ok(Role::Admin));
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn a_partner_cannot_be_granted_internal_fields() {
        let asked = Scope::parse_list("read:parks read:internal").expect("known scopes");
        let err = grant(Role::Partner, Some(asked)).expect_err("beyond the ceiling");
        assert_eq!(err.beyond, vec![Scope::ReadInternal]);
        assert_eq!(err.to_string(), "role PARTNER may not hold read:internal");
    }

    #[test]
    fn scopes_can_be_narrowed_and_default_to_the_role() {
        let parks = Scope::parse_list("read:parks").expect("known");
        assert_eq!(grant(Role::Partner, Some(parks.clone())), Ok(parks));
        let analyst = grant(Role::Analyst, None).expect("defaults");
        assert!(analyst.contains(&Scope::ReadInternal) && !analyst.contains(&Scope::AdminTokens));
        assert!(grant(Role::Admin, None).expect("defaults").contains(&Scope::AdminTokens));
    }

    #[test]
    fn staff_read_the_change_feed_by_default_and_a_partner_only_when_granted_it() {
        for role in [Role::Admin, Role::Editor, Role::Analyst] {
            assert!(grant(role, None).expect("defaults").contains(&Scope::ReadChanges), "{role}");
        }
        assert!(!grant(Role::Partner, None).expect("defaults").contains(&Scope::ReadChanges));
        let asked = Scope::parse_list("read:parks read:changes").expect("known");
        assert_eq!(grant(Role::Partner, Some(asked.clone())), Ok(asked));
        assert!(!Role::Anonymous.allowed_scopes().contains(&Scope::ReadChanges));
        assert_eq!("read:changes".parse::<Scope>(), Ok(Scope::ReadChanges));
    }

    #[test]
    fn scope_lists_round_trip() {
        let scopes = Scope::parse_list("read:parks, export").expect("known");
        assert_eq!(Scope::join(&scopes), "read:parks export");
        assert!(Scope::parse_list("read:castles").is_err());
    }
}
