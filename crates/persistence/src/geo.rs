//! Nearby: parks within a radius of a point, and the organizations located in them, by
//! distance. No spatial extension is needed: the parks inside the radius's bounding box
//! (latitude and longitude ranges, which the same SQL answers on SQLite and PostgreSQL)
//! are read, and the great-circle (haversine) distance is computed here.

use std::cmp::Ordering;

use sea_orm::sea_query::{Alias, Expr, Func};
use sea_orm::{ColumnTrait, Condition, EntityTrait, Order, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use crate::entity::{enterprise_location, park};
use crate::query::{Visibility, visible};
use crate::{Store, StoreError};

/// The mean radius of the Earth, km.
pub const EARTH_RADIUS_KM: f64 = 6_371.008_8;

/// The largest radius a nearby search takes, km.
pub const MAX_RADIUS_KM: f64 = 100.0;

/// The most parks whose organizations a search ranks (the nearest ones).
const MAX_PARKS_RANKED: usize = 1_000;

/// Great-circle distance between two points given in degrees, km.
pub fn haversine_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (phi1, phi2) = (lat1.to_radians(), lat2.to_radians());
    let d_phi = (lat2 - lat1).to_radians();
    let d_lambda = (lon2 - lon1).to_radians();
    let a = (d_phi / 2.0).sin().powi(2) + phi1.cos() * phi2.cos() * (d_lambda / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * a.sqrt().clamp(0.0, 1.0).asin()
}

/// A park within the radius.
#[derive(Debug, Clone)]
pub struct NearbyPark {
    /// The park.
    pub park: park::Model,
    /// Its distance from the point, km.
    pub distance_km: f64,
}

/// An organization located in a park within the radius.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NearbyOrganization {
    /// The organization's id.
    pub organization_id: Uuid,
    /// The nearest park within the radius it is located in.
    pub park_id: Uuid,
    /// That park's distance from the point, km.
    pub distance_km: f64,
}

/// What lies within a radius, nearest first.
#[derive(Debug, Clone, Default)]
pub struct Nearby {
    /// Parks (with coordinates) within the radius, nearest first, then by Chinese name.
    pub parks: Vec<NearbyPark>,
    /// True when more parks than returned lie within the radius.
    pub more_parks: bool,
    /// Organizations located in those parks, by the distance of their nearest such park,
    /// then by id.
    pub organizations: Vec<NearbyOrganization>,
    /// True when more organizations than returned are located there.
    pub more_organizations: bool,
}

/// Degrees of latitude and longitude the radius spans around `latitude`; `None` for the
/// longitude when the box reaches a pole (every longitude is then in range).
fn spans(latitude: f64, radius_km: f64) -> (f64, Option<f64>) {
    let km_per_degree = EARTH_RADIUS_KM * std::f64::consts::PI / 180.0;
    let d_lat = radius_km / km_per_degree;
    if latitude.abs() + d_lat >= 89.0 {
        return (d_lat, None);
    }
    (d_lat, Some(d_lat / latitude.to_radians().cos()))
}

/// The bounding box of the radius as a condition on the park's coordinates.
fn bounding_box(latitude: f64, longitude: f64, radius_km: f64) -> Condition {
    use park::Column as C;
    let (d_lat, d_lon) = spans(latitude, radius_km);
    let mut cond = Condition::all().add(C::Latitude.between(latitude - d_lat, latitude + d_lat));
    if let Some(d_lon) = d_lon {
        let (west, east) = (longitude - d_lon, longitude + d_lon);
        cond = cond.add(if west < -180.0 {
            Condition::any().add(C::Longitude.gte(west + 360.0)).add(C::Longitude.lte(east))
        } else if east > 180.0 {
            Condition::any().add(C::Longitude.gte(west)).add(C::Longitude.lte(east - 360.0))
        } else {
            Condition::all().add(C::Longitude.between(west, east))
        });
    } else {
        cond = cond.add(C::Longitude.is_not_null());
    }
    cond
}

impl Store {
    /// Parks within `radius_km` of the point and the organizations located in them,
    /// nearest first, at most `limit` of each. The radius must be positive and at most
    /// [`MAX_RADIUS_KM`], the point a valid latitude and longitude (else `Invalid`).
    pub async fn nearby(
        &self,
        latitude: f64,
        longitude: f64,
        radius_km: f64,
        limit: usize,
        visibility: Visibility,
    ) -> Result<Nearby, StoreError> {
        if !(radius_km > 0.0 && radius_km <= MAX_RADIUS_KM) {
            return Err(StoreError::Invalid(format!(
                "`radiusKm` must be more than 0 and at most {MAX_RADIUS_KM}, not {radius_km}"
            )));
        }
        if !(-90.0..=90.0).contains(&latitude) || !(-180.0..=180.0).contains(&longitude) {
            return Err(StoreError::Invalid(format!(
                "({latitude}, {longitude}) is not a point: a latitude is between -90 and 90 degrees, a longitude \
                 between -180 and 180"
            )));
        }
        let candidates = park::Entity::find()
            .filter(visible::<park::Entity>(visibility))
            .filter(bounding_box(latitude, longitude, radius_km))
            .all(self.conn())
            .await?;
        let mut parks: Vec<NearbyPark> = candidates
            .into_iter()
            .filter_map(|park| {
                let (lat, lon) = (park.latitude?, park.longitude?);
                let distance_km = haversine_km(latitude, longitude, lat, lon);
                (distance_km <= radius_km).then_some(NearbyPark { park, distance_km })
            })
            .collect();
        parks.sort_by(|a, b| {
            a.distance_km
                .partial_cmp(&b.distance_km)
                .unwrap_or(Ordering::Equal)
                .then_with(|| a.park.name_zh.cmp(&b.park.name_zh))
                .then_with(|| a.park.id.cmp(&b.park.id))
        });

        let ranked: Vec<(Uuid, f64)> =
            parks.iter().take(MAX_PARKS_RANKED).map(|p| (p.park.id, p.distance_km)).collect();
        let (organizations, more_organizations) = self.located_in_ranked(&ranked, limit, visibility).await?;
        let more_parks = parks.len() > limit;
        parks.truncate(limit);
        Ok(Nearby { parks, more_parks, organizations, more_organizations })
    }

    /// The organizations located in `parks` (nearest first), each with its nearest park,
    /// at most `limit`: one `GROUP BY` over the locations, ranked by the park's position.
    async fn located_in_ranked(
        &self,
        parks: &[(Uuid, f64)],
        limit: usize,
        visibility: Visibility,
    ) -> Result<(Vec<NearbyOrganization>, bool), StoreError> {
        use enterprise_location::Column as C;
        let Some(((first, _), rest)) = parks.split_first() else { return Ok((Vec::new(), false)) };
        let mut rank = Expr::case(C::ParkId.eq(*first), 0i32);
        for (i, (id, _)) in rest.iter().enumerate() {
            rank = rank.case(C::ParkId.eq(*id), i32::try_from(i + 1).unwrap_or(i32::MAX));
        }
        let rows: Vec<(Uuid, i32)> = enterprise_location::Entity::find()
            .filter(visible::<enterprise_location::Entity>(visibility))
            .filter(C::ParkId.is_in(parks.iter().map(|(id, _)| *id).collect::<Vec<_>>()))
            .select_only()
            .column(C::OrganizationId)
            .expr_as(Func::min(Into::<Expr>::into(rank)), "r")
            .group_by(C::OrganizationId)
            .order_by(Expr::col(Alias::new("r")), Order::Asc)
            .order_by(C::OrganizationId, Order::Asc)
            .limit(limit as u64 + 1)
            .into_tuple()
            .all(self.conn())
            .await?;
        let more = rows.len() > limit;
        let found = rows
            .into_iter()
            .take(limit)
            .filter_map(|(organization_id, r)| {
                let (park_id, distance_km) = *parks.get(usize::try_from(r).ok()?)?;
                Some(NearbyOrganization { organization_id, park_id, distance_km })
            })
            .collect();
        Ok((found, more))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn haversine_distances_match_known_values() {
        assert!(haversine_km(30.5, 114.4, 30.5, 114.4).abs() < 1e-9);
        // One degree of latitude is about 111.19 km.
        assert!((haversine_km(30.0, 114.0, 31.0, 114.0) - 111.19).abs() < 0.01);
        // Wuhan to Beijing, about 1,050 km.
        let d = haversine_km(30.59, 114.31, 39.90, 116.40);
        assert!((1_040.0..1_070.0).contains(&d), "{d}");
    }

    #[test]
    fn the_bounding_box_holds_the_whole_radius() {
        for lat in [0.0, 30.5, 60.0, -45.0] {
            let (d_lat, d_lon) = spans(lat, 100.0);
            let d_lon = d_lon.unwrap_or(180.0);
            assert!(haversine_km(lat, 10.0, lat + d_lat, 10.0) >= 99.99);
            assert!(haversine_km(lat, 10.0, lat, 10.0 + d_lon) >= 99.99);
        }
        assert_eq!(spans(89.5, 100.0).1, None, "near a pole every longitude is in range");
    }
}
