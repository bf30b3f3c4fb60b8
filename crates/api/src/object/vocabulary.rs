//! GraphQL enums mirroring the domain vocabularies (same codes, same values).

use async_graphql::Enum;
use parkgraph_domain as domain;

/// What kind of area a park is.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "domain::ParkKind")]
pub enum ParkKind {
    /// National high-tech zone or national independent innovation demonstration zone (国家高新区 / 国家自主创新示范区).
    NationalHighTechZone,
    /// Science park (科技园 / 科创园区).
    SciencePark,
    /// Industrial park (产业园).
    IndustrialPark,
    /// Innovation valley (创谷).
    InnovationValley,
    /// University innovation belt (环大学创新带).
    UniversityInnovationBelt,
    /// Economic and technological development zone (经济技术开发区).
    EconomicDevelopmentZone,
    /// Any other kind of area.
    Other,
}

/// What kind of organization a record is.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "domain::OrganizationKind")]
pub enum OrganizationKind {
    /// A company (企业).
    Enterprise,
    /// A university (高校).
    University,
    /// A research institute (科研院所).
    ResearchInstitute,
    /// A government body or agency.
    Government,
    /// Any other organization.
    Other,
}

/// Whether an organization still operates.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "domain::OrganizationStatus")]
pub enum OrganizationStatus {
    /// Operating (存续).
    Active,
    /// Not operating, not dissolved.
    Inactive,
    /// Dissolved or deregistered (注销).
    Dissolved,
    /// Acquired by or merged into another organization.
    Acquired,
}

/// A designation awarded to an enterprise.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "domain::DesignationKind")]
pub enum DesignationKind {
    /// Unicorn (独角兽企业): private, valued at US$1bn or more.
    Unicorn,
    /// Gazelle (瞪羚企业): a fast-growing firm.
    Gazelle,
    /// Certified high-tech enterprise (高新技术企业).
    HighTechEnterprise,
    /// Fortune Global 500 (世界500强).
    FortuneGlobal500,
    /// China Top 500 (中国500强).
    ChinaTop500,
    /// Specialized and sophisticated "little giant" (专精特新小巨人).
    SpecializedLittleGiant,
    /// Any other designation.
    Other,
}

/// What an enterprise does at a park.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "domain::LocationRole")]
pub enum LocationRole {
    /// Registered address (注册地).
    Registered,
    /// Operating site (经营地).
    Operating,
    /// Research and development site.
    #[graphql(name = "R_AND_D")]
    RAndD,
    /// Factory.
    Factory,
}

/// Kind of incubation body.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "domain::IncubatorKind")]
pub enum IncubatorKind {
    /// Incubator (孵化器).
    Incubator,
    /// Makerspace (众创空间).
    Makerspace,
    /// Accelerator (加速器).
    Accelerator,
}

/// Level at which an incubator is recognised.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "domain::IncubatorLevel")]
pub enum IncubatorLevel {
    /// National (国家级).
    National,
    /// Provincial (省级).
    Provincial,
    /// Municipal (市级).
    Municipal,
}

/// Where an enterprise stands with an incubator.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "domain::IncubationStatus")]
pub enum IncubationStatus {
    /// Incubating (在孵).
    Incubating,
    /// Graduated (毕业).
    Graduated,
    /// Left without graduating.
    Exited,
}

/// Stage of a second headquarters.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "domain::SecondHqStatus")]
pub enum SecondHqStatus {
    /// Announced publicly.
    Announced,
    /// Agreement signed.
    Signed,
    /// Campus under construction.
    UnderConstruction,
    /// Open and operating.
    Operating,
    /// Paused.
    Suspended,
    /// Called off.
    Cancelled,
}

/// What a second headquarters does for its parent group.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "domain::SecondHqFunction")]
pub enum SecondHqFunction {
    /// Regional or second headquarters functions.
    RegionalHeadquarters,
    /// Research and development.
    #[graphql(name = "R_AND_D")]
    RAndD,
    /// Operations.
    Operations,
    /// Sales and marketing.
    SalesAndMarketing,
    /// Manufacturing.
    Manufacturing,
    /// Customer service.
    CustomerService,
    /// Investment.
    Investment,
    /// Anything else.
    Other,
}

/// Kind of national innovation center.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "domain::InnovationCenterKind")]
pub enum InnovationCenterKind {
    /// National manufacturing innovation center (国家制造业创新中心, MIIT).
    Manufacturing,
    /// National technology innovation center (国家技术创新中心, MOST).
    Technology,
    /// National industrial innovation center (国家产业创新中心, NDRC).
    Industrial,
}

/// An organization's part in an innovation center.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "domain::MembershipRole")]
pub enum MembershipRole {
    /// Lead organization (牵头单位).
    Lead,
    /// Founding shareholder (股东单位).
    FoundingShareholder,
    /// Member (成员单位).
    Member,
}

/// Sort direction.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug, Default)]
pub enum Direction {
    /// Ascending.
    #[default]
    Asc,
    /// Descending.
    Desc,
}

/// How much of a date is known.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "domain::DatePrecision")]
pub enum DatePrecision {
    /// Only the year is known (`2017`).
    Year,
    /// The year and month are known (`2017-11`).
    Month,
    /// The day is known (`2017-11-18`).
    Day,
}

/// How a figure's value relates to the true number, as the source states it.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "domain::FigureQualifier")]
pub enum FigureQualifier {
    /// The value as stated.
    Exact,
    /// More than the value (多家, 逾, 超过).
    MoreThan,
    /// At least the value (不少于).
    AtLeast,
    /// About the value (约, 近).
    About,
    /// Less than the value (不足).
    LessThan,
}
