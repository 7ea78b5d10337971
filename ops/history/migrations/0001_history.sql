-- Raw checks, and per-minute / per-hour rollups of them (ops/history/postgres.py writes all three
-- in one transaction per sweep). Latency buckets are ops/history/buckets.py's.
CREATE TABLE checks (
    ts timestamptz NOT NULL,
    service text NOT NULL,
    idx integer NOT NULL DEFAULT 0,  -- position in its sweep: rows of one sweep keep their order
    status text NOT NULL,
    latency_ms double precision,
    http_status integer,
    error text,
    PRIMARY KEY (service, ts)  -- one check per service and moment: an import rerun adds nothing
);
CREATE INDEX checks_ts ON checks (ts);

CREATE TABLE checks_minute (
    service text NOT NULL,
    bucket timestamptz NOT NULL,
    checks integer NOT NULL,
    failures integer NOT NULL,  -- checks with an error
    counted integer NOT NULL,  -- checks counted in uptime (not maintenance)
    up integer NOT NULL,  -- counted checks without an error
    answered integer NOT NULL,  -- checks with a latency and no error
    latency_sum double precision NOT NULL,
    latency_min double precision,
    latency_max double precision,
    n_down integer NOT NULL,
    n_degraded integer NOT NULL,
    n_pending integer NOT NULL,  -- and any status this version does not know
    n_maintenance integer NOT NULL,
    n_up integer NOT NULL,
    last_error text,
    last_error_ts timestamptz,
    latency_buckets integer[] NOT NULL,  -- answered checks per latency bucket: subscript = bucket_index
    PRIMARY KEY (service, bucket)
) WITH (fillfactor = 70);  -- room on each page, so a sweep's update of a row is HOT (no index writes)
CREATE INDEX checks_minute_bucket ON checks_minute (bucket);

CREATE TABLE checks_hour (LIKE checks_minute INCLUDING ALL) WITH (fillfactor = 70);

-- Element-wise sum of two count arrays. Subscripts are bucket indexes and an array spans only the
-- buckets it counts ('[17:17]={1}' is one check in bucket 17), so adding a sweep's delta to a row
-- touches one element, and gaps (NULL) are zeros.
CREATE FUNCTION mc_add_counts(a integer[], b integer[]) RETURNS integer[]
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    i integer;
BEGIN
    IF a IS NULL OR cardinality(a) = 0 THEN
        RETURN b;
    END IF;
    IF b IS NULL OR cardinality(b) = 0 THEN
        RETURN a;
    END IF;
    FOR i IN array_lower(b, 1) .. array_upper(b, 1) LOOP
        IF b[i] <> 0 THEN
            a[i] := coalesce(a[i], 0) + b[i];
        END IF;
    END LOOP;
    RETURN a;
END
$$;

-- The count array of a list of bucket indexes (a batch's answered checks of one row).
CREATE FUNCTION mc_counts(idx integer[]) RETURNS integer[]
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    counts integer[] := '{}';
    i integer;
BEGIN
    FOREACH i IN ARRAY coalesce(idx, '{}') LOOP
        counts[i] := coalesce(counts[i], 0) + 1;
    END LOOP;
    RETURN counts;
END
$$;
