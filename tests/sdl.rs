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

const INTROSPECTION: &str = "{ __schema { types { name kind description
    fields { name description args { name description } }
    inputFields { name description }
    enumValues { name description } } } }";

const BUILT_IN_SCALARS: &[&str] = &["String", "Int", "Float", "Boolean", "ID"];

#[tokio::test]
async fn every_type_field_argument_and_enum_value_has_a_description() {
    let response = parkgraph_api::execute(&parkgraph_api::detached_schema(), INTROSPECTION).await;
    let json = serde_json::to_value(&response).expect("serializes");
    let types = json["data"]["__schema"]["types"].as_array().expect("types");
    assert!(types.iter().any(|t| t["name"] == "Park") && types.len() > 40, "introspection lists the schema's types");
    let mut undocumented = Vec::new();
    let blank = |v: &serde_json::Value| v.as_str().is_none_or(|s| s.trim().is_empty());
    for ty in json["data"]["__schema"]["types"].as_array().expect("types") {
        let name = ty["name"].as_str().unwrap_or_default();
        if name.starts_with("__") || BUILT_IN_SCALARS.contains(&name) {
            continue;
        }
        if blank(&ty["description"]) {
            undocumented.push(name.to_string());
        }
        for field in ty["fields"].as_array().into_iter().flatten() {
            let field_name = field["name"].as_str().unwrap_or_default();
            if blank(&field["description"]) {
                undocumented.push(format!("{name}.{field_name}"));
            }
            for arg in field["args"].as_array().into_iter().flatten() {
                if blank(&arg["description"]) {
                    undocumented.push(format!("{name}.{field_name}({})", arg["name"].as_str().unwrap_or_default()));
                }
            }
        }
        for member in
            ty["inputFields"].as_array().into_iter().flatten().chain(ty["enumValues"].as_array().into_iter().flatten())
        {
            if blank(&member["description"]) {
                undocumented.push(format!("{name}.{}", member["name"].as_str().unwrap_or_default()));
            }
        }
    }
    assert!(undocumented.is_empty(), "described nowhere in the schema: {undocumented:#?}");
}
