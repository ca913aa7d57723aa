-- The sample segments of `segments/` (plus `audience rfm --scores`) written by
-- hand in DuckDB SQL, for the benchmark in bench/run.py.
--
-- Shape: each source file is read once (one block per input format below);
-- ONE per-contact feature table, `features`, is materialised from them
-- (every metric, table condition, scope aggregate, RFM score and recipient
-- filter the segments need; built from one aggregate pass over each file),
-- then ONE COPY per segment writes its recipients to CSV.
--
-- bench/duckdb_run.py fills the placeholders: {{DATA}} (folder of the files
-- written by audience-gen), {{OUT}} (output folder), {{AS_OF}} (YYYY-MM-DD),
-- {{THREADS}} (`SET threads` statement or nothing), {{ALL_COLUMNS}} (the
-- default export columns), {{CSV_OPTIONS}} (COPY options). Lines between
-- `-- @@ sources:FORMAT` and `-- @@ end` are kept only for that format.
--
-- Semantics mirrored from ../../shared/spec/segments.md (sections 1-3, 6, 8):
-- e-mail keys trimmed and lowercased; contacts with an empty key dropped,
-- duplicates keep the first row in file order; text tests ignore case and
-- accents (strip_accents(lower(..))); a missing value fails positive tests
-- and passes negated ones; `orders` = every row whose status is not
-- refunded / not validated, `tickets` = every row; recipients = members -
-- suppressed - no consent (marketing) - invalid e-mail; rows in contacts-file
-- order.

{{THREADS}}
SET preserve_insertion_order = true;

-- Text as the segment language compares it: trimmed, lowercase, no accents.
-- strip_accents is costly and does nothing to ASCII text (as many bytes as
-- characters), so it runs only on the other values.
CREATE MACRO norm(x) AS CASE WHEN strlen(CAST(x AS VARCHAR)) = length(CAST(x AS VARCHAR))
    THEN lower(trim(CAST(x AS VARCHAR))) ELSE strip_accents(lower(trim(CAST(x AS VARCHAR)))) END;
-- E-mail keys: trimmed and lowercase; empty is missing.
CREATE MACRO key_of(x) AS nullif(lower(trim(CAST(x AS VARCHAR))), '');
-- `is_true`: a boolean true, the number 1, or one of the yes-words.
CREATE MACRO is_true(x) AS coalesce(lower(trim(CAST(x AS VARCHAR))) IN ('true', '1', 'yes', 'y', 'oui', 'o', 'vrai', 'x'), false);
-- Numbers as audience exports them: shortest form, `12` rather than `12.0`.
CREATE MACRO num_text(x) AS CASE WHEN x IS NULL THEN NULL
    WHEN x = trunc(x) AND abs(x) < 1e15 THEN CAST(CAST(x AS BIGINT) AS VARCHAR)
    ELSE CAST(x AS VARCHAR) END;
CREATE MACRO as_of() AS DATE '{{AS_OF}}';

-- @@ sources:csv
-- participants.csv: `,`, UTF-8. Read as text, trimmed, then typed the way
-- audience infers these columns (birth_date DD/MM/YYYY with 00/00/0000 as
-- missing, postal_code kept as text, last_activity YYYY-MM-DD HH:MM).
CREATE TEMP TABLE contacts_raw AS
SELECT
    nullif(trim(email), '')                                AS email,
    nullif(trim(first_name), '')                           AS first_name,
    nullif(trim(last_name), '')                            AS last_name,
    nullif(trim(civility), '')                             AS civility,
    CAST(try_strptime(nullif(trim(birth_date), ''), '%d/%m/%Y') AS DATE) AS birth_date,
    nullif(trim(postal_code), '')                          AS postal_code,
    nullif(trim(city), '')                                 AS city,
    nullif(trim(region), '')                               AS region,
    nullif(trim(country), '')                              AS country,
    nullif(trim(language), '')                             AS language,
    nullif(trim(device), '')                               AS device,
    nullif(trim(newsletter), '')                           AS newsletter,
    try_cast(nullif(trim(signup_date), '') AS DATE)        AS signup_date,
    try_cast(nullif(trim(last_activity), '') AS TIMESTAMP) AS last_activity,
    nullif(trim(mobile), '')                               AS mobile,
    nullif(trim(sms_optin), '')                            AS sms_optin
FROM read_csv('{{DATA}}/participants.csv', header = true, delim = ',', quote = '"', all_varchar = true);

-- orders.csv: `;`, decimal comma with a space between thousands, UTF-8 BOM
-- (DuckDB skips it). Both `orders` and `tickets` are this one file.
CREATE TEMP VIEW src_orders AS
SELECT order_id, email, event, tariff, status, point_of_sale, promo_code,
       CAST(replace(replace(replace(replace(amount, ' ', ''), chr(160), ''), chr(8239), ''), ',', '.') AS DECIMAL(18, 2)) AS amount,
       ordered_at
FROM read_csv('{{DATA}}/orders.csv', header = true, delim = ';', quote = '"',
    columns = {'order_id': 'BIGINT', 'email': 'VARCHAR', 'event': 'VARCHAR', 'edition_date': 'VARCHAR',
               'tariff': 'VARCHAR', 'status': 'VARCHAR', 'point_of_sale': 'VARCHAR', 'promo_code': 'VARCHAR',
               'amount': 'VARCHAR', 'ordered_at': 'TIMESTAMP'});

CREATE TEMP VIEW src_campaigns AS
SELECT email, campaign, opened
FROM read_csv('{{DATA}}/campaigns.csv', header = true, delim = ',', quote = '"',
    columns = {'email': 'VARCHAR', 'campaign': 'VARCHAR', 'sent_at': 'DATE', 'opened': 'VARCHAR', 'clicked': 'VARCHAR'});

CREATE TEMP VIEW src_bounces AS
SELECT email FROM read_csv('{{DATA}}/bounces.csv', header = true, delim = ',', all_varchar = true);
CREATE TEMP VIEW src_unsubscribed AS
SELECT email FROM read_csv('{{DATA}}/unsubscribed.csv', header = true, delim = ',', all_varchar = true);
-- @@ end

-- @@ sources:parquet
-- The Parquet files are typed already; text cells are trimmed as audience
-- trims them.
CREATE TEMP TABLE contacts_raw AS
SELECT
    nullif(trim(email), '')       AS email,
    nullif(trim(first_name), '')  AS first_name,
    nullif(trim(last_name), '')   AS last_name,
    nullif(trim(civility), '')    AS civility,
    birth_date,
    nullif(trim(postal_code), '') AS postal_code,
    nullif(trim(city), '')        AS city,
    nullif(trim(region), '')      AS region,
    nullif(trim(country), '')     AS country,
    nullif(trim(language), '')    AS language,
    nullif(trim(device), '')      AS device,
    nullif(trim(newsletter), '')  AS newsletter,
    signup_date,
    last_activity,
    nullif(trim(mobile), '')      AS mobile,
    nullif(trim(sms_optin), '')   AS sms_optin
FROM read_parquet('{{DATA}}/participants.parquet');

CREATE TEMP VIEW src_orders AS
SELECT order_id, email, event, tariff, status, point_of_sale, promo_code, CAST(amount AS DECIMAL(18, 2)) AS amount, ordered_at
FROM read_parquet('{{DATA}}/orders.parquet');

CREATE TEMP VIEW src_campaigns AS
SELECT email, campaign, opened FROM read_parquet('{{DATA}}/campaigns.parquet');

CREATE TEMP VIEW src_bounces AS SELECT email FROM read_parquet('{{DATA}}/bounces.parquet');
CREATE TEMP VIEW src_unsubscribed AS SELECT email FROM read_parquet('{{DATA}}/unsubscribed.parquet');
-- @@ end

-- Contacts: normalised key, empty keys dropped, first row of each key kept,
-- `pos` = position in the file (the order of every export).
CREATE TEMP TABLE contacts AS
SELECT * EXCLUDE (email)
FROM (SELECT key_of(email) AS k, rowid AS pos, * FROM contacts_raw)
WHERE pos IN (SELECT min(rowid) FROM contacts_raw WHERE key_of(email) IS NOT NULL GROUP BY key_of(email));

-- Per-contact aggregates of the orders file, in one pass over it. `counts`
-- is the `orders` table's own where (status not_in [refunded, not
-- validated]; a missing status passes not_in); aggregates without it are
-- over `tickets` (every row). order_count = distinct order ids, a row without
-- an id being an order of its own. Amounts are summed as DECIMAL(18, 2)
-- (exact: the money has cents) and the total rounded once to a double.
-- The text columns hold a handful of distinct values: they are normalised
-- (case, accents) once per distinct value and joined back, rather than once
-- per row (strip_accents is the costly part).
CREATE TEMP TABLE order_features AS
WITH o AS MATERIALIZED (
    SELECT key_of(email) AS k, order_id, amount, ordered_at, event, tariff, status, point_of_sale,
           nullif(trim(promo_code), '') IS NOT NULL AS has_promo
    FROM src_orders
),
d_event  AS (SELECT event, norm(event) AS ev FROM (SELECT DISTINCT event FROM o)),
d_tariff AS (SELECT tariff, norm(tariff) AS tr FROM (SELECT DISTINCT tariff FROM o)),
d_status AS (SELECT status, norm(status) AS st FROM (SELECT DISTINCT status FROM o)),
d_pos    AS (SELECT point_of_sale, norm(point_of_sale) AS pos FROM (SELECT DISTINCT point_of_sale FROM o)),
s AS (
    SELECT o.k, o.order_id, o.amount, o.ordered_at, nullif(trim(o.event), '') AS event, ev, tr, st, pos, has_promo,
           coalesce(st NOT IN ('refunded', 'not validated'), true) AS counts
    FROM o
    LEFT JOIN d_event USING (event)
    LEFT JOIN d_tariff USING (tariff)
    LEFT JOIN d_status USING (status)
    LEFT JOIN d_pos USING (point_of_sale)
    WHERE o.k IS NOT NULL
)
SELECT k,
    -- built-in metrics over `orders`
    count(DISTINCT order_id) FILTER (counts) + count(*) FILTER (counts AND order_id IS NULL) AS order_count,
    CAST(coalesce(sum(amount) FILTER (counts), 0) AS DOUBLE)     AS total_spent,
    CAST(max(ordered_at) FILTER (counts) AS DATE)                 AS last_order_date,
    -- metrics of audience.yaml
    count(DISTINCT event) FILTER (counts AND starts_with(ev, 'festival lumieres')) AS festival_editions,
    count(*) FILTER (counts AND tr = 'vip')                       AS vip_tickets,
    -- table conditions over `orders`
    count(*) FILTER (counts AND tr = 'jeune public')              AS n_jeune_public,
    count(*) FILTER (counts AND tr = 'etudiant')                  AS n_etudiant,
    count(*) FILTER (counts AND ev = 'festival lumieres 2024')    AS n_lumieres_2024,
    count(*) FILTER (counts AND ev = 'festival lumieres 2025')    AS n_lumieres_2025,
    count(*) FILTER (counts AND pos = 'partner:fnac')             AS n_fnac,
    count(*) FILTER (counts AND has_promo)                        AS n_promo,
    -- table conditions over `tickets` (every row)
    count(*) FILTER (st = 'refunded')                             AS n_refunded_tickets,
    count(*) FILTER (ev = 'festival lumieres 2025' AND st = 'scanned') AS n_scanned_lumieres_2025,
    -- scope of students-lumieres-2025 (2025 festival, tariff etudiant), and
    -- the built-in metrics within it
    count(*) FILTER (counts AND ev = 'festival lumieres 2025' AND tr = 'etudiant') AS n_students_scope,
    count(DISTINCT order_id) FILTER (counts AND ev = 'festival lumieres 2025' AND tr = 'etudiant')
        + count(*) FILTER (counts AND ev = 'festival lumieres 2025' AND tr = 'etudiant' AND order_id IS NULL) AS students_order_count,
    CAST(coalesce(sum(amount) FILTER (counts AND ev = 'festival lumieres 2025' AND tr = 'etudiant'), 0) AS DOUBLE) AS students_total_spent
FROM s
GROUP BY k;

-- Campaign activity: one table condition (a row of the September newsletter
-- that was opened).
CREATE TEMP TABLE campaign_features AS
WITH c AS MATERIALIZED (SELECT key_of(email) AS k, campaign, opened FROM src_campaigns),
d_campaign AS (SELECT campaign, norm(campaign) AS cp FROM (SELECT DISTINCT campaign FROM c)),
d_opened   AS (SELECT opened, is_true(opened) AS op FROM (SELECT DISTINCT opened FROM c))
SELECT k, count(*) FILTER (cp = 'newsletter septembre 2025' AND op) AS n_opened_sept_2025
FROM c LEFT JOIN d_campaign USING (campaign) LEFT JOIN d_opened USING (opened)
WHERE k IS NOT NULL
GROUP BY k;

-- R's quantile type 7 on a sorted list at 1-based position idx, plus 1.
CREATE MACRO q7(xs, idx) AS (
    CASE WHEN idx > floor(idx) AND xs[CAST(ceil(idx) AS BIGINT)] <> xs[CAST(floor(idx) AS BIGINT)]
         THEN (1.0::DOUBLE - (idx - floor(idx))) * xs[CAST(floor(idx) AS BIGINT)] + (idx - floor(idx)) * xs[CAST(ceil(idx) AS BIGINT)]
         ELSE xs[CAST(floor(idx) AS BIGINT)] END) + 1.0::DOUBLE;

-- The bin of v among 5 bins cut at the 4 ascending cut points cs: 1 + the
-- number of cut points <= v.
CREATE MACRO bin_of(cs, v) AS 1 + CAST(cs[1] <= v AS INTEGER) + CAST(cs[2] <= v AS INTEGER)
    + CAST(cs[3] <= v AS INTEGER) + CAST(cs[4] <= v AS INTEGER);

-- RFM (spec section 6, R package rfm 0.3.0): over the buyers (order_count >
-- 0), cut points = R type-7 quantiles at 1/5..4/5 plus 1, computed with R's
-- own arithmetic ((1-h)*x_lo + h*x_hi) so that they agree to the last bit;
-- score = 1 + number of cut points <= value (recency reversed).
CREATE TEMP TABLE rfm AS
WITH b AS (
    SELECT k, CAST(as_of() - last_order_date AS DOUBLE) AS r, CAST(order_count AS DOUBLE) AS f, CAST(total_spent AS DOUBLE) AS m
    FROM order_features JOIN contacts USING (k)
    WHERE order_count > 0 AND last_order_date IS NOT NULL
), sorted AS (
    SELECT list_sort(list(r)) AS rs, list_sort(list(f)) AS fs, list_sort(list(m)) AS ms, count(*) AS n FROM b
), probs AS (
    SELECT 1.0::DOUBLE + CAST(n - 1 AS DOUBLE) * (CAST(i AS DOUBLE) * (1.0::DOUBLE / 5.0::DOUBLE)) AS idx, rs, fs, ms
    FROM sorted, range(1, 5) t(i)
), cuts AS (
    SELECT
        list(q7(rs, idx) ORDER BY idx) AS rc,
        list(q7(fs, idx) ORDER BY idx) AS fc,
        list(q7(ms, idx) ORDER BY idx) AS mc
    FROM probs
), scored AS (
    SELECT b.k, b.r, b.f, b.m,
        6 - bin_of(rc, b.r) AS rfm_recency,
        bin_of(fc, b.f)     AS rfm_frequency,
        bin_of(mc, b.m)     AS rfm_monetary
    FROM b, cuts
)
SELECT k, r AS recency_days, f AS frequency, m AS monetary, rfm_recency, rfm_frequency, rfm_monetary,
    CAST(rfm_recency AS VARCHAR) || CAST(rfm_frequency AS VARCHAR) || CAST(rfm_monetary AS VARCHAR) AS rfm_score,
    CASE
        WHEN rfm_recency BETWEEN 5 AND 5 AND rfm_frequency BETWEEN 5 AND 5 AND rfm_monetary BETWEEN 5 AND 5 THEN 'Champions'
        WHEN rfm_recency BETWEEN 3 AND 5 AND rfm_frequency BETWEEN 3 AND 5 AND rfm_monetary BETWEEN 2 AND 5 THEN 'Potential Loyalist'
        WHEN rfm_recency BETWEEN 2 AND 4 AND rfm_frequency BETWEEN 2 AND 4 AND rfm_monetary BETWEEN 2 AND 4 THEN 'Loyal Customers'
        WHEN rfm_recency BETWEEN 3 AND 4 AND rfm_frequency BETWEEN 1 AND 3 AND rfm_monetary BETWEEN 3 AND 5 THEN 'Promising'
        WHEN rfm_recency BETWEEN 4 AND 5 AND rfm_frequency BETWEEN 1 AND 3 AND rfm_monetary BETWEEN 1 AND 5 THEN 'New Customers'
        WHEN rfm_recency BETWEEN 1 AND 2 AND rfm_frequency BETWEEN 3 AND 4 AND rfm_monetary BETWEEN 4 AND 5 THEN 'Can''t Lose Them'
        WHEN rfm_recency BETWEEN 1 AND 2 AND rfm_frequency BETWEEN 2 AND 5 AND rfm_monetary BETWEEN 4 AND 5 THEN 'At Risk'
        WHEN rfm_recency BETWEEN 1 AND 3 AND rfm_frequency BETWEEN 3 AND 5 AND rfm_monetary BETWEEN 3 AND 5 THEN 'Need Attention'
        WHEN rfm_recency BETWEEN 2 AND 3 AND rfm_frequency BETWEEN 1 AND 3 AND rfm_monetary BETWEEN 1 AND 4 THEN 'About To Sleep'
        WHEN rfm_recency BETWEEN 1 AND 1 AND rfm_frequency BETWEEN 1 AND 5 AND rfm_monetary BETWEEN 1 AND 5 THEN 'Lost'
        ELSE 'Others'
    END AS rfm_class
FROM scored;

-- THE feature table: one row per contact, materialised once; every segment
-- below is a filter over it.
CREATE TEMP TABLE features AS
SELECT c.*,
    coalesce(o.order_count, 0)          AS order_count,
    coalesce(o.total_spent, 0)          AS total_spent,
    o.last_order_date,
    coalesce(o.festival_editions, 0)    AS festival_editions,
    coalesce(o.vip_tickets, 0)          AS vip_tickets,
    coalesce(o.n_jeune_public, 0)       AS n_jeune_public,
    coalesce(o.n_etudiant, 0)           AS n_etudiant,
    coalesce(o.n_lumieres_2024, 0)      AS n_lumieres_2024,
    coalesce(o.n_lumieres_2025, 0)      AS n_lumieres_2025,
    coalesce(o.n_fnac, 0)               AS n_fnac,
    coalesce(o.n_promo, 0)              AS n_promo,
    coalesce(o.n_refunded_tickets, 0)   AS n_refunded_tickets,
    coalesce(o.n_scanned_lumieres_2025, 0) AS n_scanned_lumieres_2025,
    coalesce(o.n_students_scope, 0)     AS n_students_scope,
    coalesce(o.students_order_count, 0) AS students_order_count,
    coalesce(o.students_total_spent, 0) AS students_total_spent,
    coalesce(cf.n_opened_sept_2025, 0)  AS n_opened_sept_2025,
    r.rfm_score,
    CASE WHEN coalesce(o.order_count, 0) = 0 THEN 'No purchase' ELSE coalesce(r.rfm_class, 'Others') END AS rfm_class,
    CAST(c.last_activity AS DATE)       AS last_activity_date,
    norm(c.language)                    AS language_n,
    norm(c.civility)                    AS civility_n,
    norm(c.city)                        AS city_n,
    norm(c.k)                           AS k_n,
    -- recipient filters, in the order audience counts them
    c.k IN (SELECT key_of(email) FROM src_bounces WHERE key_of(email) IS NOT NULL)      AS bounced,
    c.k IN (SELECT key_of(email) FROM src_unsubscribed WHERE key_of(email) IS NOT NULL) AS unsubscribed,
    is_true(c.newsletter)                               AS consent,
    regexp_full_match(c.k, '[^@\s]+@[^@\s.]+(\.[^@\s.]+)+') AS valid_email
FROM contacts c
LEFT JOIN order_features o USING (k)
LEFT JOIN campaign_features cf USING (k)
LEFT JOIN rfm r USING (k);

-- Recipients of a marketing / an informational segment.
CREATE TEMP VIEW f AS
SELECT *,
    NOT bounced AND NOT unsubscribed AND consent AND valid_email AS ok_marketing,
    NOT bounced AND valid_email                                  AS ok_informational
FROM features;

-- One COPY per segment. {{ALL_COLUMNS}} is every contact column (the
-- default export, the key normalised); `ORDER BY pos` gives contacts-file
-- order; {{CSV_OPTIONS}} writes a header, dates YYYY-MM-DD and date-times
-- YYYY-MM-DDTHH:MM:SS as audience does.

-- at-risk-200: rfm_class eq At Risk, total_spent gt 200
COPY (SELECT {{ALL_COLUMNS}} FROM f WHERE rfm_class = 'At Risk' AND total_spent > 200 AND ok_marketing ORDER BY pos)
TO '{{OUT}}/at-risk-200.csv' ({{CSV_OPTIONS}});

-- champions-optin: rfm_class in [Champions, Loyal Customers], newsletter is_true
COPY (SELECT k AS email, first_name, rfm_score, rfm_class, num_text(total_spent) AS total_spent FROM f
      WHERE rfm_class IN ('Champions', 'Loyal Customers') AND is_true(newsletter) AND ok_marketing ORDER BY pos)
TO '{{OUT}}/champions-optin.csv' ({{CSV_OPTIONS}});

-- festival-regulars: festival_editions gte 3
COPY (SELECT {{ALL_COLUMNS}} FROM f WHERE festival_editions >= 3 AND ok_marketing ORDER BY pos)
TO '{{OUT}}/festival-regulars.csv' ({{CSV_OPTIONS}});

-- gmail (informational): email ends_with @gmail.com (the key is normalised)
COPY (SELECT {{ALL_COLUMNS}} FROM f WHERE ends_with(k_n, '@gmail.com') AND ok_informational ORDER BY pos)
TO '{{OUT}}/gmail.csv' ({{CSV_OPTIONS}});

-- inactive-1y: not (last_activity in_last 1y)
COPY (SELECT {{ALL_COLUMNS}} FROM f
      WHERE NOT coalesce(last_activity_date BETWEEN CAST(as_of() - INTERVAL 1 YEAR AS DATE) AND as_of(), false) AND ok_marketing ORDER BY pos)
TO '{{OUT}}/inactive-1y.csv' ({{CSV_OPTIONS}});

-- jeune-public: has an order with tariff eq Jeune public
COPY (SELECT {{ALL_COLUMNS}} FROM f WHERE n_jeune_public >= 1 AND ok_marketing ORDER BY pos)
TO '{{OUT}}/jeune-public.csv' ({{CSV_OPTIONS}});

-- lang-*: language eq ..
COPY (SELECT {{ALL_COLUMNS}} FROM f WHERE language_n = 'de' AND ok_marketing ORDER BY pos) TO '{{OUT}}/lang-de.csv' ({{CSV_OPTIONS}});
COPY (SELECT {{ALL_COLUMNS}} FROM f WHERE language_n = 'en' AND ok_marketing ORDER BY pos) TO '{{OUT}}/lang-en.csv' ({{CSV_OPTIONS}});
COPY (SELECT {{ALL_COLUMNS}} FROM f WHERE language_n = 'es' AND ok_marketing ORDER BY pos) TO '{{OUT}}/lang-es.csv' ({{CSV_OPTIONS}});
COPY (SELECT {{ALL_COLUMNS}} FROM f WHERE language_n = 'fr' AND ok_marketing ORDER BY pos) TO '{{OUT}}/lang-fr.csv' ({{CSV_OPTIONS}});
COPY (SELECT {{ALL_COLUMNS}} FROM f WHERE language_n = 'it' AND ok_marketing ORDER BY pos) TO '{{OUT}}/lang-it.csv' ({{CSV_OPTIONS}});
COPY (SELECT {{ALL_COLUMNS}} FROM f WHERE language_n = 'nl' AND ok_marketing ORDER BY pos) TO '{{OUT}}/lang-nl.csv' ({{CSV_OPTIONS}});

-- lapsed-fans: (vip_tickets gte 1 or festival_editions gte 2)
--   and not (last_order_date after -6m) and not (an order with tariff eq Étudiant)
COPY (SELECT {{ALL_COLUMNS}} FROM f
      WHERE (vip_tickets >= 1 OR festival_editions >= 2)
        AND NOT coalesce(last_order_date > CAST(as_of() - INTERVAL 6 MONTH AS DATE), false)
        AND NOT (n_etudiant >= 1)
        AND ok_marketing ORDER BY pos)
TO '{{OUT}}/lapsed-fans.csv' ({{CSV_OPTIONS}});

-- loyal-100: order_count gte 2, total_spent gt 100
COPY (SELECT {{ALL_COLUMNS}} FROM f WHERE order_count >= 2 AND total_spent > 100 AND ok_marketing ORDER BY pos)
TO '{{OUT}}/loyal-100.csv' ({{CSV_OPTIONS}});

-- loyal-newsletter: {segment: loyal-100} and {segment: newsletter} (their members)
COPY (SELECT {{ALL_COLUMNS}} FROM f
      WHERE (order_count >= 2 AND total_spent > 100) AND is_true(newsletter) AND ok_marketing ORDER BY pos)
TO '{{OUT}}/loyal-newsletter.csv' ({{CSV_OPTIONS}});

-- lumieres-2024-not-2025
COPY (SELECT {{ALL_COLUMNS}} FROM f WHERE n_lumieres_2024 >= 1 AND NOT (n_lumieres_2025 >= 1) AND ok_marketing ORDER BY pos)
TO '{{OUT}}/lumieres-2024-not-2025.csv' ({{CSV_OPTIONS}});

-- lyon-women-active: civility eq Mme, city eq Lyon, last_activity in_last 30d
COPY (SELECT {{ALL_COLUMNS}} FROM f
      WHERE civility_n = 'mme' AND city_n = 'lyon'
        AND coalesce(last_activity_date BETWEEN CAST(as_of() - INTERVAL 30 DAY AS DATE) AND as_of(), false)
        AND ok_marketing ORDER BY pos)
TO '{{OUT}}/lyon-women-active.csv' ({{CSV_OPTIONS}});

-- newsletter: newsletter is_true
COPY (SELECT {{ALL_COLUMNS}} FROM f WHERE is_true(newsletter) AND ok_marketing ORDER BY pos)
TO '{{OUT}}/newsletter.csv' ({{CSV_OPTIONS}});

-- openers-sept-2025: a campaigns row with campaign eq Newsletter septembre 2025 and opened is_true
COPY (SELECT {{ALL_COLUMNS}} FROM f WHERE n_opened_sept_2025 >= 1 AND ok_marketing ORDER BY pos)
TO '{{OUT}}/openers-sept-2025.csv' ({{CSV_OPTIONS}});

-- partner-fnac: an order with point_of_sale eq partner:fnac
COPY (SELECT {{ALL_COLUMNS}} FROM f WHERE n_fnac >= 1 AND ok_marketing ORDER BY pos)
TO '{{OUT}}/partner-fnac.csv' ({{CSV_OPTIONS}});

-- promo-users: an order with promo_code is_not_empty
COPY (SELECT {{ALL_COLUMNS}} FROM f WHERE n_promo >= 1 AND ok_marketing ORDER BY pos)
TO '{{OUT}}/promo-users.csv' ({{CSV_OPTIONS}});

-- refunded (informational): a tickets row with status eq refunded
COPY (SELECT {{ALL_COLUMNS}} FROM f WHERE n_refunded_tickets >= 1 AND ok_informational ORDER BY pos)
TO '{{OUT}}/refunded.csv' ({{CSV_OPTIONS}});

-- scanned-lumieres-2025 (informational): a tickets row of the 2025 festival with status scanned
COPY (SELECT {{ALL_COLUMNS}} FROM f WHERE n_scanned_lumieres_2025 >= 1 AND ok_informational ORDER BY pos)
TO '{{OUT}}/scanned-lumieres-2025.csv' ({{CSV_OPTIONS}});

-- students-lumieres-2025: scope orders (2025 festival, tariff etudiant), no where:
-- every candidate; order_count and total_spent within the scope
COPY (SELECT k AS email, first_name, students_order_count AS order_count, num_text(students_total_spent) AS total_spent
      FROM f WHERE n_students_scope >= 1 AND ok_marketing ORDER BY pos)
TO '{{OUT}}/students-lumieres-2025.csv' ({{CSV_OPTIONS}});

-- vip-tariff: an order with tariff eq VIP; renamed key column
COPY (SELECT k AS "Email Address", first_name, last_name, vip_tickets, num_text(total_spent) AS total_spent
      FROM f WHERE vip_tickets >= 1 AND ok_marketing ORDER BY pos)
TO '{{OUT}}/vip-tariff.csv' ({{CSV_OPTIONS}});

-- `audience rfm --scores`: one row per contact with orders, in contacts order.
COPY (SELECT c.k AS email, CAST(r.recency_days AS BIGINT) AS recency_days, CAST(r.frequency AS BIGINT) AS frequency,
             num_text(r.monetary) AS monetary, r.rfm_recency, r.rfm_frequency, r.rfm_monetary, r.rfm_score, r.rfm_class
      FROM contacts c JOIN rfm r USING (k) ORDER BY c.pos)
TO '{{OUT}}/rfm_scores.csv' ({{CSV_OPTIONS}});

-- `audience rfm --format csv`: the class table, in the classes' order.
COPY (
    WITH classes(class, ord) AS (VALUES ('Champions', 1), ('Potential Loyalist', 2), ('Loyal Customers', 3), ('Promising', 4),
        ('New Customers', 5), ('Can''t Lose Them', 6), ('At Risk', 7), ('Need Attention', 8), ('About To Sleep', 9),
        ('Lost', 10), ('Others', 11), ('No purchase', 12)),
    per AS (
        SELECT rfm_class AS class, count(*) AS contacts, sum(order_count) AS orders, sum(total_spent) AS revenue,
            avg(CAST(as_of() - last_order_date AS DOUBLE)) FILTER (order_count > 0) AS recency_mean,
            stddev_samp(CAST(as_of() - last_order_date AS DOUBLE)) FILTER (order_count > 0) AS recency_sd,
            avg(order_count) AS frequency_mean, stddev_samp(order_count) AS frequency_sd,
            avg(total_spent) AS monetary_mean, stddev_samp(total_spent) AS monetary_sd
        FROM features GROUP BY rfm_class
    )
    SELECT class, coalesce(contacts, 0) AS contacts,
        num_text(round(100.0 * coalesce(contacts, 0) / (SELECT count(*) FROM features), 1)) AS contact_share_pct,
        coalesce(orders, 0) AS orders, num_text(round(coalesce(revenue, 0), 2)) AS revenue,
        num_text(round(100.0 * coalesce(revenue, 0) / nullif((SELECT sum(total_spent) FROM features), 0), 1)) AS revenue_share_pct,
        num_text(round(recency_mean, 2)) AS recency_mean, num_text(round(recency_sd, 2)) AS recency_sd,
        num_text(round(frequency_mean, 2)) AS frequency_mean, num_text(round(frequency_sd, 2)) AS frequency_sd,
        num_text(round(monetary_mean, 2)) AS monetary_mean, num_text(round(monetary_sd, 2)) AS monetary_sd
    FROM classes LEFT JOIN per USING (class) ORDER BY ord)
TO '{{OUT}}/rfm_classes.csv' ({{CSV_OPTIONS}});
