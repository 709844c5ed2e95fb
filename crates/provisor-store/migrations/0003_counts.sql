-- The verdict counts of an assessment's current revision, for the portfolio: mandatory
-- and recommended provisions passed, unmet and open, those not applicable, and the
-- known vulnerabilities its scans matched. NULL until the revision is judged again (the
-- server fills them in at start).
ALTER TABLE assessments ADD COLUMN mandatory_pass BIGINT;
ALTER TABLE assessments ADD COLUMN mandatory_unmet BIGINT;
ALTER TABLE assessments ADD COLUMN mandatory_open BIGINT;
ALTER TABLE assessments ADD COLUMN recommended_pass BIGINT;
ALTER TABLE assessments ADD COLUMN recommended_unmet BIGINT;
ALTER TABLE assessments ADD COLUMN recommended_open BIGINT;
ALTER TABLE assessments ADD COLUMN not_applicable BIGINT;
ALTER TABLE assessments ADD COLUMN vulnerabilities BIGINT;
