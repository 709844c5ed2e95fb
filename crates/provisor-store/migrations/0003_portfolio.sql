-- The portfolio without looking every release up: the verdict counts of an assessment's
-- current revision (mandatory and recommended provisions passed, unmet and open, those
-- not applicable, and the known vulnerabilities its scans matched; NULL until the
-- revision is judged again, which the server does at start), each product's newest
-- release and each release's newest assessment, kept as they are made, and each
-- product's attention rank: the unmet mandatory provisions of its newest release's
-- newest assessment (-1 without one), indexed for the "mandatory failures first" order.
ALTER TABLE assessments ADD COLUMN mandatory_pass BIGINT;
ALTER TABLE assessments ADD COLUMN mandatory_unmet BIGINT;
ALTER TABLE assessments ADD COLUMN mandatory_open BIGINT;
ALTER TABLE assessments ADD COLUMN recommended_pass BIGINT;
ALTER TABLE assessments ADD COLUMN recommended_unmet BIGINT;
ALTER TABLE assessments ADD COLUMN recommended_open BIGINT;
ALTER TABLE assessments ADD COLUMN not_applicable BIGINT;
ALTER TABLE assessments ADD COLUMN vulnerabilities BIGINT;
ALTER TABLE products ADD COLUMN latest_release_id TEXT;
ALTER TABLE releases ADD COLUMN newest_assessment_id TEXT;
ALTER TABLE products ADD COLUMN attention BIGINT NOT NULL DEFAULT -1;
UPDATE products SET latest_release_id = (SELECT r.id FROM releases r WHERE r.product_id = products.id
    ORDER BY r.created_at DESC, r.id DESC LIMIT 1);
UPDATE releases SET newest_assessment_id = (SELECT a.id FROM assessments a WHERE a.release_id = releases.id
    ORDER BY a.created_at DESC, a.id DESC LIMIT 1);
UPDATE products SET attention = COALESCE((SELECT a.mandatory_unmet FROM releases r
    JOIN assessments a ON a.id = r.newest_assessment_id WHERE r.id = products.latest_release_id), -1);
CREATE INDEX products_attention ON products (attention DESC, name, id);
CREATE INDEX products_organisation_attention ON products (organisation_id, attention DESC, name, id);
