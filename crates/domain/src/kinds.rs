//! The closed vocabularies of the registry: kinds, levels, roles and statuses.
//!
//! Each is stored and exchanged by its stable code (`NATIONAL_HIGH_TECH_ZONE`), the same
//! string the GraphQL enum uses, so the database, the API and import files agree.

use std::fmt;
use std::str::FromStr;

/// A code that names no value of a vocabulary.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{value:?} is not a valid {vocabulary}; expected one of: {expected}")]
pub struct UnknownCode {
    /// Which vocabulary was asked.
    pub vocabulary: &'static str,
    /// The code given.
    pub value: String,
    /// The codes accepted, comma-separated.
    pub expected: String,
}

macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident, $label:literal { $($(#[$vmeta:meta])* $variant:ident => $code:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The stable code of this value.
            pub const fn code(self) -> &'static str {
                match self { $(Self::$variant => $code),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.code())
            }
        }

        impl FromStr for $name {
            type Err = UnknownCode;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let wanted = s.trim();
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.code().eq_ignore_ascii_case(wanted))
                    .ok_or_else(|| UnknownCode {
                        vocabulary: $label,
                        value: s.to_string(),
                        expected: Self::ALL.iter().map(|v| v.code()).collect::<Vec<_>>().join(", "),
                    })
            }
        }
    };
}

vocabulary!(
    /// What kind of area a park is.
    ParkKind, "park kind" {
        /// 国家高新区 / 国家自主创新示范区.
        NationalHighTechZone => "NATIONAL_HIGH_TECH_ZONE",
        /// 科技园 / 科创园区.
        SciencePark => "SCIENCE_PARK",
        /// 产业园.
        IndustrialPark => "INDUSTRIAL_PARK",
        /// 创谷.
        InnovationValley => "INNOVATION_VALLEY",
        /// 环大学创新带.
        UniversityInnovationBelt => "UNIVERSITY_INNOVATION_BELT",
        /// 经济技术开发区.
        EconomicDevelopmentZone => "ECONOMIC_DEVELOPMENT_ZONE",
        /// Anything else (bonded zones, business districts, …).
        Other => "OTHER",
    }
);

vocabulary!(
    /// What kind of organization a record is: companies and the institutions beside them.
    OrganizationKind, "organization kind" {
        /// A company (企业).
        Enterprise => "ENTERPRISE",
        /// A university (高校).
        University => "UNIVERSITY",
        /// A research institute (科研院所).
        ResearchInstitute => "RESEARCH_INSTITUTE",
        /// A government body or agency.
        Government => "GOVERNMENT",
        /// Any other organization (association, alliance, foundation).
        Other => "OTHER",
    }
);

vocabulary!(
    /// Whether an organization still operates.
    OrganizationStatus, "organization status" {
        /// Operating (存续).
        Active => "ACTIVE",
        /// Not operating but not dissolved.
        Inactive => "INACTIVE",
        /// Dissolved or deregistered (注销).
        Dissolved => "DISSOLVED",
        /// Acquired by or merged into another organization.
        Acquired => "ACQUIRED",
    }
);

vocabulary!(
    /// A designation awarded to an enterprise in some year.
    DesignationKind, "designation kind" {
        /// 独角兽企业: private, valued at US$1bn or more.
        Unicorn => "UNICORN",
        /// 瞪羚企业: a fast-growing firm.
        Gazelle => "GAZELLE",
        /// 高新技术企业: a certified high-tech enterprise.
        HighTechEnterprise => "HIGH_TECH_ENTERPRISE",
        /// 世界500强.
        FortuneGlobal500 => "FORTUNE_GLOBAL_500",
        /// 中国500强.
        ChinaTop500 => "CHINA_TOP_500",
        /// 专精特新"小巨人".
        SpecializedLittleGiant => "SPECIALIZED_LITTLE_GIANT",
        /// Any other designation.
        Other => "OTHER",
    }
);

vocabulary!(
    /// What an enterprise does at a park.
    LocationRole, "location role" {
        /// Registered address (注册地).
        Registered => "REGISTERED",
        /// Operating site (经营地).
        Operating => "OPERATING",
        /// Research and development site.
        RAndD => "R_AND_D",
        /// Factory.
        Factory => "FACTORY",
    }
);

vocabulary!(
    /// Kind of incubation body.
    IncubatorKind, "incubator kind" {
        /// 孵化器.
        Incubator => "INCUBATOR",
        /// 众创空间.
        Makerspace => "MAKERSPACE",
        /// 加速器.
        Accelerator => "ACCELERATOR",
    }
);

vocabulary!(
    /// Level at which an incubator is recognised.
    IncubatorLevel, "incubator level" {
        /// 国家级.
        National => "NATIONAL",
        /// 省级.
        Provincial => "PROVINCIAL",
        /// 市级.
        Municipal => "MUNICIPAL",
    }
);

vocabulary!(
    /// Where an enterprise stands with an incubator.
    IncubationStatus, "incubation status" {
        /// 在孵.
        Incubating => "INCUBATING",
        /// 毕业.
        Graduated => "GRADUATED",
        /// Left without graduating.
        Exited => "EXITED",
    }
);

vocabulary!(
    /// Stage of a second headquarters.
    SecondHqStatus, "second-headquarters status" {
        /// Announced publicly.
        Announced => "ANNOUNCED",
        /// Agreement signed.
        Signed => "SIGNED",
        /// Campus under construction.
        UnderConstruction => "UNDER_CONSTRUCTION",
        /// Open and operating.
        Operating => "OPERATING",
        /// Paused.
        Suspended => "SUSPENDED",
        /// Called off.
        Cancelled => "CANCELLED",
    }
);

vocabulary!(
    /// What a second headquarters does for its parent group.
    SecondHqFunction, "second-headquarters function" {
        /// Regional or second headquarters functions.
        RegionalHeadquarters => "REGIONAL_HEADQUARTERS",
        /// Research and development.
        RAndD => "R_AND_D",
        /// Operations.
        Operations => "OPERATIONS",
        /// Sales and marketing.
        SalesAndMarketing => "SALES_AND_MARKETING",
        /// Manufacturing.
        Manufacturing => "MANUFACTURING",
        /// Customer service.
        CustomerService => "CUSTOMER_SERVICE",
        /// Investment.
        Investment => "INVESTMENT",
        /// Anything else.
        Other => "OTHER",
    }
);

vocabulary!(
    /// Kind of national innovation center, by the approving ministry's programme.
    InnovationCenterKind, "innovation center kind" {
        /// 国家制造业创新中心 (MIIT).
        Manufacturing => "MANUFACTURING",
        /// 国家技术创新中心 (MOST).
        Technology => "TECHNOLOGY",
        /// 国家产业创新中心 (NDRC).
        Industrial => "INDUSTRIAL",
    }
);

impl InnovationCenterKind {
    /// The ministry that approves centers of this kind.
    pub const fn ministry(self) -> &'static str {
        match self {
            Self::Manufacturing => "MIIT",
            Self::Technology => "MOST",
            Self::Industrial => "NDRC",
        }
    }
}

vocabulary!(
    /// An organization's part in an innovation center.
    MembershipRole, "membership role" {
        /// 牵头单位.
        Lead => "LEAD",
        /// 股东单位.
        FoundingShareholder => "FOUNDING_SHAREHOLDER",
        /// 成员单位.
        Member => "MEMBER",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_ignore_case() {
        for kind in ParkKind::ALL {
            assert_eq!(kind.code().parse::<ParkKind>(), Ok(*kind));
        }
        assert_eq!("r_and_d".parse::<LocationRole>(), Ok(LocationRole::RAndD));
    }

    #[test]
    fn an_unknown_code_names_the_accepted_ones() {
        let err = "CASTLE".parse::<IncubatorKind>().expect_err("unknown");
        assert_eq!(
            err.to_string(),
            "\"CASTLE\" is not a valid incubator kind; expected one of: INCUBATOR, MAKERSPACE, ACCELERATOR"
        );
    }
}

vocabulary!(
    /// How much of a date is known: a year, a month, or the day.
    DatePrecision, "date precision" {
        /// Only the year is known (`2017`).
        Year => "YEAR",
        /// The year and month are known (`2017-11`).
        Month => "MONTH",
        /// The day is known (`2017-11-18`).
        Day => "DAY",
    }
);

vocabulary!(
    /// How a figure's value relates to the true number, as the source states it.
    FigureQualifier, "figure qualifier" {
        /// The value as stated.
        Exact => "EXACT",
        /// "More than" (多家, 逾, 超过): the true number exceeds the value.
        MoreThan => "MORE_THAN",
        /// "At least" (不少于).
        AtLeast => "AT_LEAST",
        /// "About" (约, 近).
        About => "ABOUT",
        /// "Less than" (不足).
        LessThan => "LESS_THAN",
    }
);
