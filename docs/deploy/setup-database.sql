-- Run once as a PostgreSQL superuser (psql -U postgres -f setup-database.sql), on Debian after
--   apt-get install postgresql postgresql-15-postgis-3
-- The app creates and upgrades its own tables (versioned migrations) on first start.
CREATE ROLE pharma_map LOGIN PASSWORD 'change me';
CREATE DATABASE pharma_map OWNER pharma_map;
\connect pharma_map
CREATE EXTENSION IF NOT EXISTS postgis;   -- the app's user may not create it itself
-- The read-only role for GIS clients (the app grants it SELECT on its views and reference
-- layers when it may create roles; otherwise create it here and run the GRANT after the app's
-- first start):
CREATE ROLE pharma_map_read NOLOGIN;
CREATE ROLE analyst LOGIN PASSWORD 'change me too' IN ROLE pharma_map_read;
-- after the app's first start:
-- GRANT SELECT ON scenario_parcels, imported_features, reference_districts, reference_hubs,
--     reference_parks, confirmed_park_outlines TO pharma_map_read;
