//! sea-orm entities, one module per table.

pub mod api_token;
pub mod audit_event;
pub mod change;
pub mod city_designation;
pub mod designation;
pub mod enterprise_location;
pub mod figure;
pub mod incubation;
pub mod incubator;
pub mod innovation_center;
pub mod innovation_center_membership;
pub mod organization;
pub mod park;
pub mod park_designation;
pub mod partner;
pub mod revision;
pub mod second_headquarters;
