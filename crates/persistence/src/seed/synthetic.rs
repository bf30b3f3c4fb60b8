//! A deterministic synthetic registry for benchmarks: `N` enterprises with proportionate
//! parks, incubators, innovation centers, designations and links. Every name says
//! "synthetic" (合成 in Chinese); USCCs have valid checksums but are generated, not real.
//!
//! Names are varied enough for search to be measured on them: an enterprise is named like
//! a Wuhan firm, `{place}{brand}{field}{suffix}（合成{n}）` (武汉华芯光电科技有限公司（合成0000042）),
//! its field word following its industry (生物 for biomedicine, 芯片 for integrated
//! circuits …), and in English `Synthetic {Brand} {Field} {n}` (Synthetic Huaxin Photonics
//! 0000042); zones are named after Wuhan's development areas (光谷合成园区0000). The name
//! parts come from a generator of their own, keyed by the enterprise's number, so the
//! other columns (ids included) are what they were before names were varied.
//!
//! The same `N` gives the same rows, ids included, on every run and backend.

use chrono::{DateTime, NaiveDate, Utc};
use parkgraph_domain::{
    DesignationKind, IncubationStatus, IncubatorKind, IncubatorLevel, InnovationCenterKind, LocationRole,
    MembershipRole, OrganizationKind, OrganizationStatus, ParkKind, SecondHqFunction, SecondHqStatus, Uscc,
};
use sea_orm::{ConnectionTrait, DatabaseConnection, TransactionTrait};
use uuid::Uuid;

use super::{SeedReport, create, v7};
use crate::StoreError;
use crate::entity::{
    designation, enterprise_location, incubation, incubator, innovation_center, innovation_center_membership,
    organization, park, second_headquarters,
};

/// 2020-01-01T00:00:00Z, the time stamped on synthetic rows and their ids.
const EPOCH_MILLIS: u64 = 1_577_836_800_000;

const INDUSTRIES: &[&str] = &[
    "optoelectronics",
    "integrated circuits",
    "biomedicine",
    "software",
    "artificial intelligence",
    "new-energy vehicles",
    "aerospace",
    "cybersecurity",
    "medical devices",
    "e-commerce",
    "intelligent manufacturing",
    "new materials",
];

const DISTRICTS: &[&str] = &["东湖高新区", "洪山区", "江夏区", "经开区", "青山区", "武昌区"];

/// Places that name zones (in turn): Wuhan's development areas.
const ZONE_PLACES: &[&str] = &["光谷", "车谷", "东湖", "临空港", "长江新区", "汉阳", "江夏", "黄陂", "新洲", "蔡甸"];

/// Characters of brand names, with their pinyin for the English names. 生 and 物 are left
/// out so that 生物 in a name means the firm's field.
const BRAND: &[(&str, &str)] = &[
    ("华", "Hua"),
    ("鑫", "Xin"),
    ("天", "Tian"),
    ("宇", "Yu"),
    ("睿", "Rui"),
    ("博", "Bo"),
    ("恒", "Heng"),
    ("泰", "Tai"),
    ("瑞", "Rui"),
    ("安", "An"),
    ("康", "Kang"),
    ("达", "Da"),
    ("信", "Xin"),
    ("诚", "Cheng"),
    ("联", "Lian"),
    ("创", "Chuang"),
    ("芯", "Xin"),
    ("源", "Yuan"),
    ("晟", "Sheng"),
    ("明", "Ming"),
    ("盛", "Sheng"),
    ("嘉", "Jia"),
    ("兴", "Xing"),
    ("汇", "Hui"),
    ("通", "Tong"),
    ("航", "Hang"),
    ("海", "Hai"),
    ("云", "Yun"),
    ("微", "Wei"),
    ("远", "Yuan"),
    ("和", "He"),
    ("正", "Zheng"),
    ("德", "De"),
    ("中", "Zhong"),
    ("益", "Yi"),
    ("楚", "Chu"),
    ("江", "Jiang"),
    ("凯", "Kai"),
    ("迈", "Mai"),
    ("禾", "He"),
];

/// The field words of each industry (same order as [`INDUSTRIES`]): Chinese, English.
const FIELDS: &[&[(&str, &str)]] = &[
    &[("光电", "Photonics"), ("激光", "Laser"), ("光通信", "Optical Communications")],
    &[("芯片", "Chip"), ("半导体", "Semiconductor"), ("集成电路", "Microelectronics")],
    &[("生物", "Biotech"), ("医药", "Pharmaceutical"), ("生物医药", "Biopharma")],
    &[("软件", "Software"), ("信息", "Information"), ("数据", "Data")],
    &[("智能", "Intelligence"), ("人工智能", "Artificial Intelligence"), ("视觉", "Vision")],
    &[("新能源", "New Energy"), ("汽车", "Automotive"), ("动力电池", "Battery")],
    &[("航天", "Aerospace"), ("卫星", "Satellite"), ("航空", "Aviation")],
    &[("网络安全", "Cybersecurity"), ("信息安全", "Infosec"), ("安全", "Security")],
    &[("医疗器械", "Medical Devices"), ("医疗", "Medical"), ("生物医疗", "Biomedical")],
    &[("电子商务", "E-Commerce"), ("电商", "Online Retail"), ("网络", "Network")],
    &[("智能制造", "Smart Manufacturing"), ("机器人", "Robotics"), ("装备", "Equipment")],
    &[("新材料", "Advanced Materials"), ("材料", "Materials"), ("化工", "Chemicals")],
];

/// Company-form suffixes.
const SUFFIXES: &[&str] = &["科技有限公司", "技术有限公司", "股份有限公司", "科技股份有限公司", "有限责任公司"];

/// The Chinese and English names of synthetic enterprise `i` in `industry` (see the module
/// docs), drawn from a generator keyed by `i` alone.
fn enterprise_names(i: usize, industry: &str) -> (String, String) {
    let mut rng = Rng(0x6e61_6d65_0000_0000 ^ (i as u64).wrapping_mul(0x2545_f491_4f6c_dd1d));
    let place = match rng.below(100) {
        0..=69 => "武汉",
        70..=84 => "湖北",
        85..=89 => "光谷",
        _ => "",
    };
    let (a, a_en) = *rng.pick(BRAND);
    let (b, b_en) = *rng.pick(BRAND);
    let fields = INDUSTRIES.iter().position(|&x| x == industry).map_or(FIELDS[0], |k| FIELDS[k]);
    let (field, field_en) = *rng.pick(fields);
    let suffix = *rng.pick(SUFFIXES);
    (
        format!("{place}{a}{b}{field}{suffix}（合成{i:07}）"),
        format!("Synthetic {a_en}{} {field_en} {i:07}", b_en.to_lowercase()),
    )
}

/// splitmix64: small, fast and fully deterministic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 1000 < percent * 10
    }

    fn uuid(&mut self) -> Uuid {
        let a = self.next().to_be_bytes();
        let b = self.next().to_be_bytes();
        v7(EPOCH_MILLIS, [a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], b[0], b[1]])
    }

    fn date(&mut self, from_year: i32, to_year: i32) -> Option<NaiveDate> {
        let year = from_year + self.below((to_year - from_year + 1) as usize) as i32;
        NaiveDate::from_ymd_opt(year, 1 + self.below(12) as u32, 1 + self.below(28) as u32)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// How many rows of each kind `n` enterprises come with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// Enterprises.
    pub enterprises: usize,
    /// Top-level zones.
    pub zones: usize,
    /// Parks inside zones.
    pub parks: usize,
    /// Universities and research institutes.
    pub institutions: usize,
    /// Incubators.
    pub incubators: usize,
    /// Innovation centers.
    pub centers: usize,
    /// Members per innovation center.
    pub members_per_center: usize,
    /// Second headquarters.
    pub second_hqs: usize,
}

impl Shape {
    /// The shape for `n` enterprises: about 100 enterprises a park, 20 parks a zone.
    pub fn for_enterprises(n: usize) -> Self {
        let parks = (n / 100).max(4);
        Self {
            enterprises: n,
            zones: (parks / 20).max(1),
            parks,
            institutions: (n / 1000).max(2),
            incubators: (n / 500).max(2),
            centers: (n / 5000).max(2),
            members_per_center: 20.min(n.max(1)),
            second_hqs: (n / 1000).max(1),
        }
    }
}

/// A valid-checksum USCC for synthetic organization number `i`.
pub fn uscc_for(i: usize) -> Result<Uscc, StoreError> {
    Uscc::complete(&format!("91420100{:08}0", i % 100_000_000))
        .map_err(|e| StoreError::Invalid(format!("synthetic USCC {i}: {e}")))
}

fn enterprise(
    rng: &mut Rng,
    i: usize,
    kind: OrganizationKind,
    now: DateTime<Utc>,
) -> Result<organization::Model, StoreError> {
    // Drawn in the order the fields were always drawn, so ids and values stay as they were.
    let id = rng.uuid();
    let founded_on = rng.date(1985, 2024);
    let industry = *rng.pick(INDUSTRIES);
    let (zh, en) = match kind {
        OrganizationKind::Enterprise => enterprise_names(i, industry),
        OrganizationKind::University => (format!("合成大学{i:05}"), format!("Synthetic University {i:05}")),
        _ => (format!("合成研究院{i:05}"), format!("Synthetic Research Institute {i:05}")),
    };
    Ok(organization::Model {
        id,
        kind: kind.code().into(),
        name_zh: zh,
        name_en: Some(en),
        legal_name: None,
        uscc: Some(uscc_for(i)?.to_string()),
        uscc_warning: None,
        founded_on,
        founded_on_precision: None,
        industry: Some(industry.into()),
        registered_capital_cny: Some(1_000_000 * (1 + rng.below(500) as i64)),
        headcount: Some(5 + rng.below(5000) as i32),
        website: None,
        status: if rng.chance(3) { OrganizationStatus::Dissolved } else { OrganizationStatus::Active }.code().into(),
        contact_name: Some(format!("合成联系人{i:07}")),
        contact_phone: None,
        contact_email: Some(format!("contact{i:07}@synthetic.invalid")),
        staff_notes: Some("synthetic staff note".into()),
        city: Some("武汉".into()),
        district: Some((*rng.pick(DISTRICTS)).into()),
        source_name: Some("ParkGraph synthetic generator".into()),
        source_url: None,
        as_of: NaiveDate::from_ymd_opt(2020, 1, 1),
        as_of_precision: None,
        created_at: now,
        updated_at: now,
        version: 1,
        archived_at: None,
    })
}

/// Writes the synthetic registry for `n` enterprises into an empty database.
pub async fn load(db: &DatabaseConnection, n: usize) -> Result<SeedReport, StoreError> {
    let txn = db.begin().await?;
    super::require_empty(&txn).await?;
    let report = write(&txn, n).await?;
    txn.commit().await?;
    super::analyze(db).await?;
    Ok(report)
}

async fn write(db: &impl ConnectionTrait, n: usize) -> Result<SeedReport, StoreError> {
    let shape = Shape::for_enterprises(n);
    let mut rng = Rng(0x5eed_0000 ^ n as u64);
    let now = DateTime::<Utc>::from_timestamp_millis(EPOCH_MILLIS as i64).unwrap_or_default();
    let provenance =
        || (Some("ParkGraph synthetic generator".to_string()), None::<String>, NaiveDate::from_ymd_opt(2020, 1, 1));
    let mut report = SeedReport::default();

    // Zones, then parks inside them.
    let mut zone_ids = Vec::new();
    let mut parks = Vec::new();
    for z in 0..shape.zones {
        let id = rng.uuid();
        zone_ids.push(id);
        let (source_name, source_url, as_of) = provenance();
        parks.push(park::Model {
            id,
            parent_id: None,
            name_zh: format!("{}合成园区{z:04}", ZONE_PLACES[z % ZONE_PLACES.len()]),
            name_en: Some(format!("Synthetic Zone {z:04}")),
            kind: if z % 2 == 0 { ParkKind::NationalHighTechZone } else { ParkKind::EconomicDevelopmentZone }
                .code()
                .into(),
            city: Some("武汉".into()),
            district: Some((*rng.pick(DISTRICTS)).into()),
            address: None,
            latitude: Some(30.4 + rng.below(200) as f64 / 1000.0),
            longitude: Some(114.3 + rng.below(200) as f64 / 1000.0),
            area_km2: Some(50.0 + rng.below(500) as f64),
            established_on: rng.date(1988, 2010),
            established_on_precision: None,
            source_name,
            source_url,
            as_of,
            as_of_precision: None,
            created_at: now,
            updated_at: now,
            version: 1,
            archived_at: None,
        });
    }
    let park_kinds = [
        ParkKind::SciencePark,
        ParkKind::IndustrialPark,
        ParkKind::InnovationValley,
        ParkKind::UniversityInnovationBelt,
    ];
    let mut park_ids = Vec::new();
    for p in 0..shape.parks {
        let id = rng.uuid();
        park_ids.push(id);
        let (source_name, source_url, as_of) = provenance();
        parks.push(park::Model {
            id,
            parent_id: Some(zone_ids[p % zone_ids.len()]),
            name_zh: format!("合成产业园{p:05}"),
            name_en: Some(format!("Synthetic Park {p:05}")),
            kind: park_kinds[p % park_kinds.len()].code().into(),
            city: Some("武汉".into()),
            district: Some((*rng.pick(DISTRICTS)).into()),
            address: None,
            latitude: None,
            longitude: None,
            area_km2: Some(1.0 + rng.below(30) as f64),
            established_on: rng.date(1995, 2022),
            established_on_precision: None,
            source_name,
            source_url,
            as_of,
            as_of_precision: None,
            created_at: now,
            updated_at: now,
            version: 1,
            archived_at: None,
        });
    }
    report.parks = create(db, now, parks).await?;

    // Enterprises, then universities and institutes.
    let mut organizations = Vec::with_capacity(n + shape.institutions);
    for i in 0..n {
        organizations.push(enterprise(&mut rng, i, OrganizationKind::Enterprise, now)?);
    }
    let enterprise_ids: Vec<Uuid> = organizations.iter().map(|o| o.id).collect();
    let mut institution_ids = Vec::new();
    for j in 0..shape.institutions {
        let kind = if j % 2 == 0 { OrganizationKind::University } else { OrganizationKind::ResearchInstitute };
        let org = enterprise(&mut rng, n + j, kind, now)?;
        institution_ids.push(org.id);
        organizations.push(org);
    }

    let mut designations = Vec::new();
    let mut locations = Vec::new();
    for (i, &org) in enterprise_ids.iter().enumerate() {
        let home = park_ids[i % park_ids.len()];
        let (source_name, source_url, as_of) = provenance();
        locations.push(enterprise_location::Model {
            id: rng.uuid(),
            organization_id: org,
            park_id: home,
            role: LocationRole::Registered.code().into(),
            since: rng.date(2000, 2024),
            since_precision: None,
            source_name: source_name.clone(),
            source_url: source_url.clone(),
            as_of,
            as_of_precision: None,
            created_at: now,
            updated_at: now,
            version: 1,
            archived_at: None,
        });
        if rng.chance(30) {
            let other = park_ids[rng.below(park_ids.len())];
            if other != home {
                locations.push(enterprise_location::Model {
                    id: rng.uuid(),
                    organization_id: org,
                    park_id: other,
                    role: LocationRole::RAndD.code().into(),
                    since: rng.date(2010, 2024),
                    since_precision: None,
                    source_name: source_name.clone(),
                    source_url: source_url.clone(),
                    as_of,
                    as_of_precision: None,
                    created_at: now,
                    updated_at: now,
                    version: 1,
                    archived_at: None,
                });
            }
        }
        for (kind, percent) in [
            (DesignationKind::HighTechEnterprise, 20),
            (DesignationKind::Gazelle, 5),
            (DesignationKind::SpecializedLittleGiant, 2),
            (DesignationKind::Unicorn, 1),
        ] {
            if rng.chance(percent) {
                let unicorn = kind == DesignationKind::Unicorn;
                designations.push(designation::Model {
                    id: rng.uuid(),
                    organization_id: org,
                    kind: kind.code().into(),
                    year: 2015 + rng.below(10) as i32,
                    valuation_usd: unicorn.then(|| 1_000_000_000 * (1 + rng.below(20) as i64)),
                    note: None,
                    source_name: source_name.clone(),
                    source_url: source_url.clone(),
                    as_of,
                    as_of_precision: None,
                    created_at: now,
                    updated_at: now,
                    version: 1,
                    archived_at: None,
                });
            }
        }
    }
    report.organizations = create(db, now, organizations).await?;
    report.designations = create(db, now, designations).await?;
    report.locations = create(db, now, locations).await?;

    // Incubators and incubations (about one enterprise in ten).
    let mut incubators = Vec::new();
    let mut incubator_ids = Vec::new();
    let kinds = [IncubatorKind::Incubator, IncubatorKind::Makerspace, IncubatorKind::Accelerator];
    let levels = [IncubatorLevel::National, IncubatorLevel::Provincial, IncubatorLevel::Municipal];
    for b in 0..shape.incubators {
        let id = rng.uuid();
        incubator_ids.push(id);
        let (source_name, source_url, as_of) = provenance();
        incubators.push(incubator::Model {
            id,
            name_zh: format!("合成孵化器{b:05}"),
            name_en: Some(format!("Synthetic Incubator {b:05}")),
            kind: kinds[b % kinds.len()].code().into(),
            level: Some(levels[rng.below(levels.len())].code().into()),
            park_id: Some(park_ids[rng.below(park_ids.len())]),
            operator_id: Some(institution_ids[b % institution_ids.len()]),
            founded_on: rng.date(1990, 2020),
            founded_on_precision: None,
            source_name,
            source_url,
            as_of,
            as_of_precision: None,
            created_at: now,
            updated_at: now,
            version: 1,
            archived_at: None,
        });
    }
    report.incubators = create(db, now, incubators).await?;
    let mut incubations = Vec::new();
    for &org in &enterprise_ids {
        if rng.chance(10) {
            let entered = rng.date(2005, 2020);
            let graduated =
                rng.chance(60).then(|| entered.map(|d| d + chrono::Days::new(365 + rng.below(1500) as u64))).flatten();
            let (source_name, source_url, as_of) = provenance();
            incubations.push(incubation::Model {
                id: rng.uuid(),
                organization_id: org,
                incubator_id: incubator_ids[rng.below(incubator_ids.len())],
                entered_on: entered,
                entered_on_precision: None,
                graduated_on: graduated,
                graduated_on_precision: None,
                status: if graduated.is_some() { IncubationStatus::Graduated } else { IncubationStatus::Incubating }
                    .code()
                    .into(),
                source_name,
                source_url,
                as_of,
                as_of_precision: None,
                created_at: now,
                updated_at: now,
                version: 1,
                archived_at: None,
            });
        }
    }
    report.incubations = create(db, now, incubations).await?;

    // Innovation centers with a lead, founding shareholders and members.
    let mut centers = Vec::new();
    let mut members = Vec::new();
    let center_kinds =
        [InnovationCenterKind::Manufacturing, InnovationCenterKind::Technology, InnovationCenterKind::Industrial];
    for c in 0..shape.centers {
        let id = rng.uuid();
        let kind = center_kinds[c % center_kinds.len()];
        let (source_name, source_url, as_of) = provenance();
        centers.push(innovation_center::Model {
            id,
            name_zh: format!("合成创新中心{c:04}"),
            name_en: Some(format!("Synthetic Innovation Center {c:04}")),
            kind: kind.code().into(),
            field: Some((*rng.pick(INDUSTRIES)).into()),
            ministry: kind.ministry().into(),
            approved_on: rng.date(2016, 2024),
            approved_on_precision: None,
            city: Some("武汉".into()),
            host_park_id: Some(park_ids[rng.below(park_ids.len())]),
            source_name: source_name.clone(),
            source_url: source_url.clone(),
            as_of,
            as_of_precision: None,
            created_at: now,
            updated_at: now,
            version: 1,
            archived_at: None,
        });
        let mut chosen = std::collections::HashSet::new();
        for m in 0..shape.members_per_center {
            let (org, role) = match m {
                0 => (institution_ids[c % institution_ids.len()], MembershipRole::Lead),
                1..=4 => (enterprise_ids[rng.below(enterprise_ids.len())], MembershipRole::FoundingShareholder),
                _ => (enterprise_ids[rng.below(enterprise_ids.len())], MembershipRole::Member),
            };
            if chosen.insert(org) {
                members.push(innovation_center_membership::Model {
                    id: rng.uuid(),
                    innovation_center_id: id,
                    organization_id: org,
                    role: role.code().into(),
                    joined_on: rng.date(2016, 2024),
                    joined_on_precision: None,
                    source_name: source_name.clone(),
                    source_url: source_url.clone(),
                    as_of,
                    as_of_precision: None,
                    created_at: now,
                    updated_at: now,
                    version: 1,
                    archived_at: None,
                });
            }
        }
    }
    report.innovation_centers = create(db, now, centers).await?;
    report.memberships = create(db, now, members).await?;

    // Second headquarters of randomly chosen parent groups.
    let mut hqs = Vec::new();
    let statuses = [
        SecondHqStatus::Announced,
        SecondHqStatus::Signed,
        SecondHqStatus::UnderConstruction,
        SecondHqStatus::Operating,
    ];
    for h in 0..shape.second_hqs {
        let announced = rng.date(2015, 2023);
        let status = statuses[rng.below(statuses.len())];
        let (source_name, source_url, as_of) = provenance();
        hqs.push(second_headquarters::Model {
            id: rng.uuid(),
            parent_id: enterprise_ids[rng.below(enterprise_ids.len())],
            park_id: Some(park_ids[rng.below(park_ids.len())]),
            local_entity_id: Some(enterprise_ids[rng.below(enterprise_ids.len())]),
            city: Some("武汉".into()),
            name_zh: format!("合成第二总部{h:04}"),
            name_en: Some(format!("Synthetic Second Headquarters {h:04}")),
            announced_on: announced,
            announced_on_precision: None,
            opened_on: (status == SecondHqStatus::Operating)
                .then(|| announced.map(|d| d + chrono::Days::new(400)))
                .flatten(),
            opened_on_precision: None,
            planned_investment_cny: Some(100_000_000 * (1 + rng.below(50) as i64)),
            planned_headcount: Some(100 + rng.below(10_000) as i32),
            planned_floor_area_m2: Some(10_000.0 + rng.below(300_000) as f64),
            functions: [SecondHqFunction::RegionalHeadquarters, SecondHqFunction::RAndD]
                .iter()
                .map(|f| f.code())
                .collect::<Vec<_>>()
                .join(","),
            status: status.code().into(),
            staff_notes: Some("synthetic staff note".into()),
            source_name,
            source_url,
            as_of,
            as_of_precision: None,
            created_at: now,
            updated_at: now,
            version: 1,
            archived_at: None,
        });
    }
    report.second_headquarters = create(db, now, hqs).await?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_usccs_pass_validation_and_are_distinct() {
        let a = uscc_for(1).expect("valid");
        let b = uscc_for(2).expect("valid");
        assert_ne!(a, b);
        assert_eq!(Uscc::parse(a.as_str()).ok(), Some(a));
    }

    #[test]
    fn enterprise_names_follow_the_industry_and_say_synthetic() {
        let (zh, en) = enterprise_names(42, "biomedicine");
        assert!(zh.ends_with("（合成0000042）"), "{zh}");
        assert!(["生物", "医药"].iter().any(|w| zh.contains(w)), "{zh}");
        assert!(en.starts_with("Synthetic ") && en.ends_with(" 0000042"), "{en}");
        assert_eq!(enterprise_names(42, "biomedicine"), (zh, en));
        let distinct: std::collections::HashSet<String> =
            (0..1000).map(|i| enterprise_names(i, "software").0.replace(&format!("{i:07}"), "")).collect();
        assert!(distinct.len() > 500, "{} distinct names of 1000", distinct.len());
    }

    #[test]
    fn the_shape_grows_with_the_enterprise_count() {
        let small = Shape::for_enterprises(100);
        let large = Shape::for_enterprises(100_000);
        assert_eq!(large.parks, 1000);
        assert_eq!(large.zones, 50);
        assert!(small.parks >= 4 && small.zones >= 1 && small.centers >= 2);
    }
}
