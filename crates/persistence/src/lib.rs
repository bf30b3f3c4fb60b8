pub use sea_orm; pub use parkgraph_migrations;
