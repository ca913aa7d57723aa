-- segment: at-risk-200
WITH __ranked AS (
  SELECT lower(trim(email)) AS __key, lower(trim(email)) AS email, first_name AS first_name, last_name AS last_name, civility AS civility, birth_date AS birth_date, postal_code AS postal_code, city AS city, region AS region, country AS country, language AS language, device AS device, newsletter AS newsletter, signup_date AS signup_date, last_activity AS last_activity, mobile AS mobile, sms_optin AS sms_optin, row_number() OVER (PARTITION BY lower(trim(email)) ORDER BY email ASC NULLS LAST, first_name ASC NULLS LAST, last_name ASC NULLS LAST, civility ASC NULLS LAST, birth_date ASC NULLS LAST, postal_code ASC NULLS LAST, city ASC NULLS LAST, region ASC NULLS LAST, country ASC NULLS LAST, language ASC NULLS LAST, device ASC NULLS LAST, newsletter ASC NULLS LAST, signup_date ASC NULLS LAST, last_activity ASC NULLS LAST, mobile ASC NULLS LAST, sms_optin ASC NULLS LAST) AS __rn
  FROM contacts
  WHERE ((NOT (lower(trim(email)) IS NULL)) AND (lower(trim(email)) <> ''))
),
__c AS (
  SELECT __key AS __key, email AS email, first_name AS first_name, last_name AS last_name, civility AS civility, birth_date AS birth_date, postal_code AS postal_code, city AS city, region AS region, country AS country, language AS language, device AS device, newsletter AS newsletter, signup_date AS signup_date, last_activity AS last_activity, mobile AS mobile, sms_optin AS sms_optin
  FROM __ranked
  WHERE (__rn = 1)
),
__rows_orders AS (
  SELECT lower(trim(email)) AS __key, order_id AS order_id, email AS email, event AS event, edition_date AS edition_date, tariff AS tariff, status AS status, point_of_sale AS point_of_sale, promo_code AS promo_code, amount AS amount, ordered_at AS ordered_at
  FROM orders
  WHERE (NOT coalesce((translate(lower(status), 'àáâãäåçèéêëìíîïñòóôõöùúûüýÿāăąćĉċčďēĕėęěĝğġģĥĩīĭįĵķĺļľńņňōŏőŕŗřśŝşšţťũūŭůűųŵŷźżžơưǎǐǒǔǖǘǚǜǟǡǣǧǩǫǭǯǰǵǹǻǽǿȁȃȅȇȉȋȍȏȑȓȕȗșțȟȧȩȫȭȯȱȳʹΐάέήίΰϊϋόύώϓϔйѐёѓїќѝўѷӂӑӓӗӛӝӟӣӥӧӫӭӯӱӳӵӹḁḃḅḇḉḋḍḏḑḓḕḗḙḛḝḟḡḣḥḧḩḫḭḯḱḳḵḷḹḻḽḿṁṃṅṇṉṋṍṏṑṓṕṗṙṛṝṟṡṣṥṧṩṫṭṯṱṳṵṷṹṻṽṿẁẃẅẇẉẋẍẏẑẓẕẖẗẘẙẛạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ', 'aaaaaaceeeeiiiinooooouuuuyyaaaccccdeeeeegggghiiiijklllnnnooorrrssssttuuuuuuwyzzzouaiouuuuuaaægkooʒjgnaæøaaeeiioorruusthaeooooyʹιαεηιυιυουωϒϒиеегікиуѵжааеәжзииоөэууучыabbbcdddddeeeeefghhhhhiikkkllllmmmnnnnoooopprrrrsssssttttuuuuuvvwwwwwxxyzzzhtwyſaaaaaaaaaaaaeeeeeeeeiioooooooooooouuuuuuuyyyy') IN ('refunded', 'not validated')), FALSE))
),
__agg_orders AS (
  SELECT __key AS __key, (count(DISTINCT order_id) + count(CASE WHEN ((order_id IS NULL)) THEN 1 END)) AS __raw0, round(sum(CAST(amount AS DOUBLE)), 9) AS __raw1, max(CAST(ordered_at AS DATE)) AS __raw2
  FROM __rows_orders
  GROUP BY __key
),
__f0 AS (
  SELECT __key AS __key, email AS email, first_name AS first_name, last_name AS last_name, civility AS civility, birth_date AS birth_date, postal_code AS postal_code, city AS city, region AS region, country AS country, language AS language, device AS device, newsletter AS newsletter, signup_date AS signup_date, last_activity AS last_activity, mobile AS mobile, sms_optin AS sms_optin, coalesce(__raw0, 0) AS __a0, coalesce(__raw1, 0) AS __a1, __raw2 AS __a2
  FROM __c LEFT JOIN __agg_orders USING (__key)
),
__rfm_v AS (
  SELECT __key AS __key, (CAST(__a0 AS DOUBLE) > 0.0) AS has, CASE WHEN (CAST(__a0 AS DOUBLE) > 0.0) THEN CAST(DATEDIFF(day, __a2, DATE '2025-11-30') AS DOUBLE) ELSE NULL END AS r, CAST(__a0 AS DOUBLE) AS f, CAST(__a1 AS DOUBLE) AS m
  FROM __f0
),
__rfm_r AS (
  SELECT r AS v, row_number() OVER (ORDER BY r ASC NULLS LAST) AS rn, count(*) OVER () AS n
  FROM __rfm_v
  WHERE (NOT (r IS NULL))
),
__rfm_qr AS (
  SELECT max((1.0 + (CAST((n - 1) AS DOUBLE) * 0.2))) AS r_idx1, max(CASE WHEN (CAST(rn AS DOUBLE) = floor((1.0 + (CAST((n - 1) AS DOUBLE) * 0.2)))) THEN v END) AS r_lo1, max(CASE WHEN (CAST(rn AS DOUBLE) = least(ceil((1.0 + (CAST((n - 1) AS DOUBLE) * 0.2))), CAST(n AS DOUBLE))) THEN v END) AS r_hi1, max((1.0 + (CAST((n - 1) AS DOUBLE) * 0.4))) AS r_idx2, max(CASE WHEN (CAST(rn AS DOUBLE) = floor((1.0 + (CAST((n - 1) AS DOUBLE) * 0.4)))) THEN v END) AS r_lo2, max(CASE WHEN (CAST(rn AS DOUBLE) = least(ceil((1.0 + (CAST((n - 1) AS DOUBLE) * 0.4))), CAST(n AS DOUBLE))) THEN v END) AS r_hi2, max((1.0 + (CAST((n - 1) AS DOUBLE) * 0.6000000000000001))) AS r_idx3, max(CASE WHEN (CAST(rn AS DOUBLE) = floor((1.0 + (CAST((n - 1) AS DOUBLE) * 0.6000000000000001)))) THEN v END) AS r_lo3, max(CASE WHEN (CAST(rn AS DOUBLE) = least(ceil((1.0 + (CAST((n - 1) AS DOUBLE) * 0.6000000000000001))), CAST(n AS DOUBLE))) THEN v END) AS r_hi3, max((1.0 + (CAST((n - 1) AS DOUBLE) * 0.8))) AS r_idx4, max(CASE WHEN (CAST(rn AS DOUBLE) = floor((1.0 + (CAST((n - 1) AS DOUBLE) * 0.8)))) THEN v END) AS r_lo4, max(CASE WHEN (CAST(rn AS DOUBLE) = least(ceil((1.0 + (CAST((n - 1) AS DOUBLE) * 0.8))), CAST(n AS DOUBLE))) THEN v END) AS r_hi4
  FROM __rfm_r
),
__rfm_f AS (
  SELECT f AS v, row_number() OVER (ORDER BY f ASC NULLS LAST) AS rn, count(*) OVER () AS n
  FROM __rfm_v
  WHERE (NOT (r IS NULL))
),
__rfm_qf AS (
  SELECT max((1.0 + (CAST((n - 1) AS DOUBLE) * 0.2))) AS f_idx1, max(CASE WHEN (CAST(rn AS DOUBLE) = floor((1.0 + (CAST((n - 1) AS DOUBLE) * 0.2)))) THEN v END) AS f_lo1, max(CASE WHEN (CAST(rn AS DOUBLE) = least(ceil((1.0 + (CAST((n - 1) AS DOUBLE) * 0.2))), CAST(n AS DOUBLE))) THEN v END) AS f_hi1, max((1.0 + (CAST((n - 1) AS DOUBLE) * 0.4))) AS f_idx2, max(CASE WHEN (CAST(rn AS DOUBLE) = floor((1.0 + (CAST((n - 1) AS DOUBLE) * 0.4)))) THEN v END) AS f_lo2, max(CASE WHEN (CAST(rn AS DOUBLE) = least(ceil((1.0 + (CAST((n - 1) AS DOUBLE) * 0.4))), CAST(n AS DOUBLE))) THEN v END) AS f_hi2, max((1.0 + (CAST((n - 1) AS DOUBLE) * 0.6000000000000001))) AS f_idx3, max(CASE WHEN (CAST(rn AS DOUBLE) = floor((1.0 + (CAST((n - 1) AS DOUBLE) * 0.6000000000000001)))) THEN v END) AS f_lo3, max(CASE WHEN (CAST(rn AS DOUBLE) = least(ceil((1.0 + (CAST((n - 1) AS DOUBLE) * 0.6000000000000001))), CAST(n AS DOUBLE))) THEN v END) AS f_hi3, max((1.0 + (CAST((n - 1) AS DOUBLE) * 0.8))) AS f_idx4, max(CASE WHEN (CAST(rn AS DOUBLE) = floor((1.0 + (CAST((n - 1) AS DOUBLE) * 0.8)))) THEN v END) AS f_lo4, max(CASE WHEN (CAST(rn AS DOUBLE) = least(ceil((1.0 + (CAST((n - 1) AS DOUBLE) * 0.8))), CAST(n AS DOUBLE))) THEN v END) AS f_hi4
  FROM __rfm_f
),
__rfm_m AS (
  SELECT m AS v, row_number() OVER (ORDER BY m ASC NULLS LAST) AS rn, count(*) OVER () AS n
  FROM __rfm_v
  WHERE (NOT (r IS NULL))
),
__rfm_qm AS (
  SELECT max((1.0 + (CAST((n - 1) AS DOUBLE) * 0.2))) AS m_idx1, max(CASE WHEN (CAST(rn AS DOUBLE) = floor((1.0 + (CAST((n - 1) AS DOUBLE) * 0.2)))) THEN v END) AS m_lo1, max(CASE WHEN (CAST(rn AS DOUBLE) = least(ceil((1.0 + (CAST((n - 1) AS DOUBLE) * 0.2))), CAST(n AS DOUBLE))) THEN v END) AS m_hi1, max((1.0 + (CAST((n - 1) AS DOUBLE) * 0.4))) AS m_idx2, max(CASE WHEN (CAST(rn AS DOUBLE) = floor((1.0 + (CAST((n - 1) AS DOUBLE) * 0.4)))) THEN v END) AS m_lo2, max(CASE WHEN (CAST(rn AS DOUBLE) = least(ceil((1.0 + (CAST((n - 1) AS DOUBLE) * 0.4))), CAST(n AS DOUBLE))) THEN v END) AS m_hi2, max((1.0 + (CAST((n - 1) AS DOUBLE) * 0.6000000000000001))) AS m_idx3, max(CASE WHEN (CAST(rn AS DOUBLE) = floor((1.0 + (CAST((n - 1) AS DOUBLE) * 0.6000000000000001)))) THEN v END) AS m_lo3, max(CASE WHEN (CAST(rn AS DOUBLE) = least(ceil((1.0 + (CAST((n - 1) AS DOUBLE) * 0.6000000000000001))), CAST(n AS DOUBLE))) THEN v END) AS m_hi3, max((1.0 + (CAST((n - 1) AS DOUBLE) * 0.8))) AS m_idx4, max(CASE WHEN (CAST(rn AS DOUBLE) = floor((1.0 + (CAST((n - 1) AS DOUBLE) * 0.8)))) THEN v END) AS m_lo4, max(CASE WHEN (CAST(rn AS DOUBLE) = least(ceil((1.0 + (CAST((n - 1) AS DOUBLE) * 0.8))), CAST(n AS DOUBLE))) THEN v END) AS m_hi4
  FROM __rfm_m
),
__rfm_b AS (
  SELECT min(r) AS r_min, max(r) AS r_max, min(f) AS f_min, max(f) AS f_max, min(m) AS m_min, max(m) AS m_max
  FROM __rfm_v
  WHERE (NOT (r IS NULL))
),
__rfm_c AS (
  SELECT __key AS __key, has AS has, r AS r, f AS f, m AS m, r_min AS r_min, r_max AS r_max, f_min AS f_min, f_max AS f_max, m_min AS m_min, m_max AS m_max, (CASE WHEN ((r_idx1 > floor(r_idx1)) AND (r_hi1 <> r_lo1)) THEN (((1.0 - (r_idx1 - floor(r_idx1))) * r_lo1) + ((r_idx1 - floor(r_idx1)) * r_hi1)) ELSE r_lo1 END + 1.0) AS r_cut0, (CASE WHEN ((r_idx2 > floor(r_idx2)) AND (r_hi2 <> r_lo2)) THEN (((1.0 - (r_idx2 - floor(r_idx2))) * r_lo2) + ((r_idx2 - floor(r_idx2)) * r_hi2)) ELSE r_lo2 END + 1.0) AS r_cut1, (CASE WHEN ((r_idx3 > floor(r_idx3)) AND (r_hi3 <> r_lo3)) THEN (((1.0 - (r_idx3 - floor(r_idx3))) * r_lo3) + ((r_idx3 - floor(r_idx3)) * r_hi3)) ELSE r_lo3 END + 1.0) AS r_cut2, (CASE WHEN ((r_idx4 > floor(r_idx4)) AND (r_hi4 <> r_lo4)) THEN (((1.0 - (r_idx4 - floor(r_idx4))) * r_lo4) + ((r_idx4 - floor(r_idx4)) * r_hi4)) ELSE r_lo4 END + 1.0) AS r_cut3, (CASE WHEN ((f_idx1 > floor(f_idx1)) AND (f_hi1 <> f_lo1)) THEN (((1.0 - (f_idx1 - floor(f_idx1))) * f_lo1) + ((f_idx1 - floor(f_idx1)) * f_hi1)) ELSE f_lo1 END + 1.0) AS f_cut0, (CASE WHEN ((f_idx2 > floor(f_idx2)) AND (f_hi2 <> f_lo2)) THEN (((1.0 - (f_idx2 - floor(f_idx2))) * f_lo2) + ((f_idx2 - floor(f_idx2)) * f_hi2)) ELSE f_lo2 END + 1.0) AS f_cut1, (CASE WHEN ((f_idx3 > floor(f_idx3)) AND (f_hi3 <> f_lo3)) THEN (((1.0 - (f_idx3 - floor(f_idx3))) * f_lo3) + ((f_idx3 - floor(f_idx3)) * f_hi3)) ELSE f_lo3 END + 1.0) AS f_cut2, (CASE WHEN ((f_idx4 > floor(f_idx4)) AND (f_hi4 <> f_lo4)) THEN (((1.0 - (f_idx4 - floor(f_idx4))) * f_lo4) + ((f_idx4 - floor(f_idx4)) * f_hi4)) ELSE f_lo4 END + 1.0) AS f_cut3, (CASE WHEN ((m_idx1 > floor(m_idx1)) AND (m_hi1 <> m_lo1)) THEN (((1.0 - (m_idx1 - floor(m_idx1))) * m_lo1) + ((m_idx1 - floor(m_idx1)) * m_hi1)) ELSE m_lo1 END + 1.0) AS m_cut0, (CASE WHEN ((m_idx2 > floor(m_idx2)) AND (m_hi2 <> m_lo2)) THEN (((1.0 - (m_idx2 - floor(m_idx2))) * m_lo2) + ((m_idx2 - floor(m_idx2)) * m_hi2)) ELSE m_lo2 END + 1.0) AS m_cut1, (CASE WHEN ((m_idx3 > floor(m_idx3)) AND (m_hi3 <> m_lo3)) THEN (((1.0 - (m_idx3 - floor(m_idx3))) * m_lo3) + ((m_idx3 - floor(m_idx3)) * m_hi3)) ELSE m_lo3 END + 1.0) AS m_cut2, (CASE WHEN ((m_idx4 > floor(m_idx4)) AND (m_hi4 <> m_lo4)) THEN (((1.0 - (m_idx4 - floor(m_idx4))) * m_lo4) + ((m_idx4 - floor(m_idx4)) * m_hi4)) ELSE m_lo4 END + 1.0) AS m_cut3
  FROM __rfm_v CROSS JOIN __rfm_qr CROSS JOIN __rfm_qf CROSS JOIN __rfm_qm CROSS JOIN __rfm_b
),
__rfm_s AS (
  SELECT __key AS __key, CASE WHEN (r IS NULL) THEN NULL ELSE CASE WHEN ((r_cut3 <= r) AND (r < (r_max + 1.0))) THEN 1 WHEN ((r_cut2 <= r) AND (r < r_cut3)) THEN 2 WHEN ((r_cut1 <= r) AND (r < r_cut2)) THEN 3 WHEN ((r_cut0 <= r) AND (r < r_cut1)) THEN 4 WHEN ((r_min <= r) AND (r < r_cut0)) THEN 5 ELSE 1 END END AS rfm_recency, CASE WHEN (r IS NULL) THEN NULL ELSE CASE WHEN ((f_cut3 <= f) AND (f < (f_max + 1.0))) THEN 5 WHEN ((f_cut2 <= f) AND (f < f_cut3)) THEN 4 WHEN ((f_cut1 <= f) AND (f < f_cut2)) THEN 3 WHEN ((f_cut0 <= f) AND (f < f_cut1)) THEN 2 WHEN ((f_min <= f) AND (f < f_cut0)) THEN 1 ELSE 5 END END AS rfm_frequency, CASE WHEN (r IS NULL) THEN NULL ELSE CASE WHEN ((m_cut3 <= m) AND (m < (m_max + 1.0))) THEN 5 WHEN ((m_cut2 <= m) AND (m < m_cut3)) THEN 4 WHEN ((m_cut1 <= m) AND (m < m_cut2)) THEN 3 WHEN ((m_cut0 <= m) AND (m < m_cut1)) THEN 2 WHEN ((m_min <= m) AND (m < m_cut0)) THEN 1 ELSE 5 END END AS rfm_monetary, has AS __has
  FROM __rfm_c
),
__rfm AS (
  SELECT __key AS __key, rfm_recency AS rfm_recency, rfm_frequency AS rfm_frequency, rfm_monetary AS rfm_monetary, ((CAST(rfm_recency AS VARCHAR) || CAST(rfm_frequency AS VARCHAR)) || CAST(rfm_monetary AS VARCHAR)) AS rfm_score, CASE WHEN (NOT __has) THEN 'No purchase' WHEN (rfm_recency IS NULL) THEN 'Others' WHEN (((rfm_recency >= 5) AND (rfm_recency <= 5)) AND ((rfm_frequency >= 5) AND (rfm_frequency <= 5)) AND ((rfm_monetary >= 5) AND (rfm_monetary <= 5))) THEN 'Champions' WHEN (((rfm_recency >= 3) AND (rfm_recency <= 5)) AND ((rfm_frequency >= 3) AND (rfm_frequency <= 5)) AND ((rfm_monetary >= 2) AND (rfm_monetary <= 5))) THEN 'Potential Loyalist' WHEN (((rfm_recency >= 2) AND (rfm_recency <= 4)) AND ((rfm_frequency >= 2) AND (rfm_frequency <= 4)) AND ((rfm_monetary >= 2) AND (rfm_monetary <= 4))) THEN 'Loyal Customers' WHEN (((rfm_recency >= 3) AND (rfm_recency <= 4)) AND ((rfm_frequency >= 1) AND (rfm_frequency <= 3)) AND ((rfm_monetary >= 3) AND (rfm_monetary <= 5))) THEN 'Promising' WHEN (((rfm_recency >= 4) AND (rfm_recency <= 5)) AND ((rfm_frequency >= 1) AND (rfm_frequency <= 3)) AND ((rfm_monetary >= 1) AND (rfm_monetary <= 5))) THEN 'New Customers' WHEN (((rfm_recency >= 1) AND (rfm_recency <= 2)) AND ((rfm_frequency >= 3) AND (rfm_frequency <= 4)) AND ((rfm_monetary >= 4) AND (rfm_monetary <= 5))) THEN 'Can\'t Lose Them' WHEN (((rfm_recency >= 1) AND (rfm_recency <= 2)) AND ((rfm_frequency >= 2) AND (rfm_frequency <= 5)) AND ((rfm_monetary >= 4) AND (rfm_monetary <= 5))) THEN 'At Risk' WHEN (((rfm_recency >= 1) AND (rfm_recency <= 3)) AND ((rfm_frequency >= 3) AND (rfm_frequency <= 5)) AND ((rfm_monetary >= 3) AND (rfm_monetary <= 5))) THEN 'Need Attention' WHEN (((rfm_recency >= 2) AND (rfm_recency <= 3)) AND ((rfm_frequency >= 1) AND (rfm_frequency <= 3)) AND ((rfm_monetary >= 1) AND (rfm_monetary <= 4))) THEN 'About To Sleep' WHEN (((rfm_recency >= 1) AND (rfm_recency <= 1)) AND ((rfm_frequency >= 1) AND (rfm_frequency <= 5)) AND ((rfm_monetary >= 1) AND (rfm_monetary <= 5))) THEN 'Lost' ELSE 'Others' END AS rfm_class
  FROM __rfm_s
),
__f AS (
  SELECT *
  FROM __f0 LEFT JOIN __rfm USING (__key)
),
__g AS (
  SELECT *
  FROM __f
)
SELECT email AS email, first_name AS first_name, last_name AS last_name, civility AS civility, birth_date AS birth_date, postal_code AS postal_code, city AS city, region AS region, country AS country, language AS language, device AS device, newsletter AS newsletter, signup_date AS signup_date, last_activity AS last_activity, mobile AS mobile, sms_optin AS sms_optin
FROM __g
WHERE ((coalesce((translate(lower(rfm_class), 'àáâãäåçèéêëìíîïñòóôõöùúûüýÿāăąćĉċčďēĕėęěĝğġģĥĩīĭįĵķĺļľńņňōŏőŕŗřśŝşšţťũūŭůűųŵŷźżžơưǎǐǒǔǖǘǚǜǟǡǣǧǩǫǭǯǰǵǹǻǽǿȁȃȅȇȉȋȍȏȑȓȕȗșțȟȧȩȫȭȯȱȳʹΐάέήίΰϊϋόύώϓϔйѐёѓїќѝўѷӂӑӓӗӛӝӟӣӥӧӫӭӯӱӳӵӹḁḃḅḇḉḋḍḏḑḓḕḗḙḛḝḟḡḣḥḧḩḫḭḯḱḳḵḷḹḻḽḿṁṃṅṇṉṋṍṏṑṓṕṗṙṛṝṟṡṣṥṧṩṫṭṯṱṳṵṷṹṻṽṿẁẃẅẇẉẋẍẏẑẓẕẖẗẘẙẛạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ', 'aaaaaaceeeeiiiinooooouuuuyyaaaccccdeeeeegggghiiiijklllnnnooorrrssssttuuuuuuwyzzzouaiouuuuuaaægkooʒjgnaæøaaeeiioorruusthaeooooyʹιαεηιυιυουωϒϒиеегікиуѵжааеәжзииоөэууучыabbbcdddddeeeeefghhhhhiikkkllllmmmnnnnoooopprrrrsssssttttuuuuuvvwwwwwxxyzzzhtwyſaaaaaaaaaaaaeeeeeeeeiioooooooooooouuuuuuuyyyy') = 'at risk'), FALSE) AND coalesce((CAST(__a1 AS DOUBLE) > 200.0), FALSE)) AND (NOT coalesce((__key IN ('anaismuller@hotmail.fr', 'lina.dupont@orange.fr', 'veroniquenoel@free.fr', 'l.lecomte@gmail.com', 'thomas.michel@orange.fr', 'j.guillaume@free.fr', 'duval.lucie@bluewin.ch', 'grousseau@orange.fr', 'isabelle.pelletier79@orange.fr', 'j.berger@gmail.com', 'raphael.lebrun@sfr.fr', 'eric_royer@yahoo.fr', 'r.faure@gmail', 'karim.saint-martin@gmail.com', 'lroyer@yahoo.fr', 'pauline.meyer@gmail.com', 'herve.rolland.gmail.com', 'bboyer@hotmail.fr', 'bastienhubert@live.fr', 'moniquebrunet@gmail.com', 'llacroix@bbox.fr', 'omorin@outlook.fr', 'sophie.nicolas@orange.fr', 'genevieverichard@gmail', 'lina.lemaitre@wanadoo.fr', 'emma.richard@icloud.com', 'nathalie.perez@wanadoo.fr', 'fguerin@gmail', 'patrickcaron@gmx.ch', 'fabrice.prevost@gmail.com', 'anais_thomas@icloud.com.', 'vidal.anne-sophie@gmail.com', 'loic_leroux@sfr.fr', 'claire.jacquet@yahoo.fr', 'catherine.aubry@gmail.com', 'nadia.picard@orange.fr', 'yves.fleury@yahoo.fr', 'sylvie.renaud64@hotmail.com', 'diallo.herve@wanadoo.fr', 'bernard.lefebvre@laposte.net', 'christine.thomas83@gmail.com', 'a.deschamps@free.fr', 'kevin.marty@free.fr', 'etienne_rodriguez@yahoo.fr', 'lea.rolland@web.de', 'abrunet@orange.fr', 'nicolas.poirier@gmail.com', 'stephanie.riviere980@gmail.com', 'leger.raphael@laposte.net', 'lina.saint-martin@hotmail.fr', 'catherine.bertrand@gmail.com', 'christineleclerc@yahoo.fr', 'theo.breton@free.fr', 'lina.barbier@sfr.fr', 'monique.maillard@outlook.fr', 'louis.leger@gmail.com', 'valerieleclerc@gmail.com')), FALSE)) AND coalesce(((translate(lower(trim(newsletter)), 'àáâãäåçèéêëìíîïñòóôõöùúûüýÿāăąćĉċčďēĕėęěĝğġģĥĩīĭįĵķĺļľńņňōŏőŕŗřśŝşšţťũūŭůűųŵŷźżžơưǎǐǒǔǖǘǚǜǟǡǣǧǩǫǭǯǰǵǹǻǽǿȁȃȅȇȉȋȍȏȑȓȕȗșțȟȧȩȫȭȯȱȳʹΐάέήίΰϊϋόύώϓϔйѐёѓїќѝўѷӂӑӓӗӛӝӟӣӥӧӫӭӯӱӳӵӹḁḃḅḇḉḋḍḏḑḓḕḗḙḛḝḟḡḣḥḧḩḫḭḯḱḳḵḷḹḻḽḿṁṃṅṇṉṋṍṏṑṓṕṗṙṛṝṟṡṣṥṧṩṫṭṯṱṳṵṷṹṻṽṿẁẃẅẇẉẋẍẏẑẓẕẖẗẘẙẛạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ', 'aaaaaaceeeeiiiinooooouuuuyyaaaccccdeeeeegggghiiiijklllnnnooorrrssssttuuuuuuwyzzzouaiouuuuuaaægkooʒjgnaæøaaeeiioorruusthaeooooyʹιαεηιυιυουωϒϒиеегікиуѵжааеәжзииоөэууучыabbbcdddddeeeeefghhhhhiikkkllllmmmnnnnoooopprrrrsssssttttuuuuuvvwwwwwxxyzzzhtwyſaaaaaaaaaaaaeeeeeeeeiioooooooooooouuuuuuuyyyy') IN ('true', '1', 'yes', 'y', 'oui', 'o', 'vrai', 'x'))), FALSE) AND coalesce((REGEXP_INSTR(__key, '^[^@\\s]+@[^@\\s.]+(\\.[^@\\s.]+)+$', 1, 1, 0, 'c') > 0), FALSE))
ORDER BY __key ASC NULLS LAST;
