-- Lists read a page at a time, in order. The portfolio: by product name, product and
-- release age, each row looking up its release's newest assessment. Jobs: those of a
-- release and those that attach to an assessment, newest first.
CREATE INDEX products_name ON products (name, id);
CREATE INDEX releases_product_age ON releases (product_id, created_at, id);
DROP INDEX assessments_release;
CREATE INDEX assessments_release_age ON assessments (release_id, created_at, id);
ALTER TABLE jobs ADD COLUMN assessment_id TEXT REFERENCES assessments (id);
UPDATE jobs SET assessment_id = subject WHERE kind = 'scan-host';
CREATE INDEX jobs_subject ON jobs (subject, created_at);
CREATE INDEX jobs_assessment ON jobs (assessment_id, created_at);
