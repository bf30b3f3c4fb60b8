//! `schema.graphql` is the generated SDL, checked in; this test fails when it drifts.
//! Regenerate with `just sdl` (or `UPDATE_SDL=1 cargo test --test sdl`).

const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");

#[test]
fn schema_graphql_matches_the_generated_sdl() {
    let generated = parkgraph_api::sdl();
    if std::env::var_os("UPDATE_SDL").is_some() {
        std::fs::write(PATH, &generated).expect("write schema.graphql");
    }
    let checked_in = std::fs::read_to_string(PATH).unwrap_or_default();
    assert!(
        checked_in == generated,
        "schema.graphql is out of date with the API's types: run `just sdl` and commit the result"
    );
}

#[test]
fn every_type_and_field_has_a_description() {
    let sdl = parkgraph_api::sdl();
    let mut undocumented = Vec::new();
    let mut previous = "";
    for line in sdl.lines() {
        let trimmed = line.trim();
        let is_definition = (trimmed.starts_with("type ")
            || trimmed.starts_with("enum ")
            || trimmed.starts_with("input ")
            || trimmed.starts_with("interface "))
            && !trimmed.starts_with("type Query");
        let is_field =
            line.starts_with('\t') && trimmed.contains(':') && !trimmed.starts_with('"') && !trimmed.starts_with('#');
        if (is_definition || is_field) && !previous.ends_with("\"\"\"") && !previous.ends_with('"') {
            undocumented.push(trimmed.to_string());
        }
        previous = trimmed;
    }
    assert!(undocumented.is_empty(), "undocumented in the SDL: {undocumented:#?}");
}
