//! `nearby`: parks within a radius of a point or of a park, and the organizations located
//! in them, nearest first (see [`parkgraph_persistence::geo`]).

use async_graphql::{Context, ID, Object, SimpleObject};
use parkgraph_domain::Scope;
use parkgraph_persistence::geo::{self, MAX_RADIUS_KM};
use uuid::Uuid;

use super::{Organization, Park, dangling, loaders, visibility};
use crate::error::{ApiError, ApiResult};
use crate::id::{NodeType, decode_as};
use crate::loader::{each, one};

/// Parks, and organizations, `nearby` returns when `first` is not given.
pub const DEFAULT_FIRST: i32 = 20;

/// A park within the radius.
#[derive(SimpleObject)]
pub struct NearbyPark {
    /// Distance from the center, km (great-circle).
    pub distance_km: f64,
    /// The park.
    pub park: Park,
}

/// An organization located in a park within the radius.
pub struct NearbyOrganization(geo::NearbyOrganization);

/// An organization located in a park within the radius.
#[Object]
impl NearbyOrganization {
    /// Distance of its nearest park within the radius from the center, km.
    async fn distance_km(&self) -> f64 {
        self.0.distance_km
    }

    /// The organization.
    #[graphql(guard = "crate::policy::Needs(parkgraph_domain::Scope::ReadOrganizations)")]
    async fn organization(&self, ctx: &Context<'_>) -> async_graphql::Result<Organization> {
        let id = self.0.organization_id;
        one(&loaders(ctx)?.organization, id).await?.map(Organization).ok_or_else(|| dangling("organization", id))
    }

    /// Its nearest park within the radius.
    async fn park(&self, ctx: &Context<'_>) -> async_graphql::Result<Park> {
        let id = self.0.park_id;
        one(&loaders(ctx)?.park, id).await?.map(Park).ok_or_else(|| dangling("park", id))
    }
}

/// What lies within a radius, nearest first.
pub struct Nearby {
    latitude: f64,
    longitude: f64,
    radius_km: f64,
    found: geo::Nearby,
}

/// What lies within a radius, nearest first.
#[Object]
impl Nearby {
    /// Latitude of the center, degrees.
    async fn latitude(&self) -> f64 {
        self.latitude
    }

    /// Longitude of the center, degrees.
    async fn longitude(&self) -> f64 {
        self.longitude
    }

    /// The radius, km.
    async fn radius_km(&self) -> f64 {
        self.radius_km
    }

    /// Parks with coordinates within the radius, nearest first (then by Chinese name).
    /// Parks without recorded coordinates are never found.
    async fn parks(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<NearbyPark>> {
        let ids: Vec<Uuid> = self.found.parks.iter().map(|p| p.park.id).collect();
        // Read through the loader, so a park is the same object as everywhere else.
        let rows = each(&loaders(ctx)?.park, &ids).await?;
        Ok(rows
            .into_iter()
            .zip(&self.found.parks)
            .filter_map(|(row, p)| row.map(|m| NearbyPark { distance_km: p.distance_km, park: Park(m) }))
            .collect())
    }

    /// True when more parks lie within the radius than `first`.
    async fn has_more_parks(&self) -> bool {
        self.found.more_parks
    }

    /// Organizations located in those parks, by the distance of their nearest such park
    /// (then by id). Needs `read:organizations`.
    #[graphql(guard = "crate::policy::Needs(parkgraph_domain::Scope::ReadOrganizations)")]
    async fn organizations(&self) -> Vec<NearbyOrganization> {
        self.found.organizations.iter().copied().map(NearbyOrganization).collect()
    }

    /// True when more organizations are located there than `first`.
    #[graphql(guard = "crate::policy::Needs(parkgraph_domain::Scope::ReadOrganizations)")]
    async fn has_more_organizations(&self) -> bool {
        self.found.more_organizations
    }
}

/// The resolver of `nearby`: around a point (`latitude` and `longitude`) or a park
/// (`parkId`, which must have coordinates).
pub(crate) async fn nearby(
    ctx: &Context<'_>,
    latitude: Option<f64>,
    longitude: Option<f64>,
    park_id: Option<ID>,
    radius_km: f64,
    first: i32,
) -> async_graphql::Result<Nearby> {
    crate::policy::require(ctx, Scope::ReadParks)?;
    let bad = |message: String| ApiError::BadUserInput(message).into_error();
    if !(1..=crate::connection::MAX_PAGE_SIZE).contains(&first) {
        return Err(bad(format!("`first` must be between 1 and {}, not {first}", crate::connection::MAX_PAGE_SIZE)));
    }
    if !(radius_km > 0.0 && radius_km <= MAX_RADIUS_KM) {
        return Err(bad(format!("`radiusKm` must be more than 0 and at most {MAX_RADIUS_KM}, not {radius_km}")));
    }
    let (latitude, longitude) = match (latitude, longitude, park_id) {
        (Some(lat), Some(lon), None) => (lat, lon),
        (None, None, Some(id)) => {
            let uuid = decode_as(NodeType::Park, &id).map_err(ApiError::into_error)?;
            let park = one(&loaders(ctx)?.park, uuid)
                .await?
                .ok_or_else(|| ApiError::NotFound(format!("no park has id {:?}", id.as_str())).into_error())?;
            match (park.latitude, park.longitude) {
                (Some(lat), Some(lon)) => (lat, lon),
                _ => {
                    return Err(bad(format!(
                        "the park {} ({:?}) has no recorded coordinates: give `latitude` and `longitude` instead",
                        park.name_zh,
                        id.as_str()
                    )));
                }
            }
        }
        _ => return Err(bad("give either `latitude` and `longitude`, or `parkId`".into())),
    };
    let limit = usize::try_from(first).unwrap_or(1);
    let found =
        crate::query::store(ctx)?.nearby(latitude, longitude, radius_km, limit, visibility(ctx)?).await.api()?;
    crate::cost::CostMeter::charge(ctx, found.parks.len() + found.organizations.len());
    Ok(Nearby { latitude, longitude, radius_km, found })
}
