-- segment: scanned-lumieres-2025
WITH `__ranked` AS (
  SELECT lower(trim(`email`)) AS `__key`, lower(trim(`email`)) AS `email`, `first_name` AS `first_name`, `last_name` AS `last_name`, `civility` AS `civility`, `birth_date` AS `birth_date`, `postal_code` AS `postal_code`, `city` AS `city`, `region` AS `region`, `country` AS `country`, `language` AS `language`, `device` AS `device`, `newsletter` AS `newsletter`, `signup_date` AS `signup_date`, `last_activity` AS `last_activity`, `mobile` AS `mobile`, `sms_optin` AS `sms_optin`, row_number() OVER (PARTITION BY lower(trim(`email`)) ORDER BY `email` ASC NULLS LAST, `first_name` ASC NULLS LAST, `last_name` ASC NULLS LAST, `civility` ASC NULLS LAST, `birth_date` ASC NULLS LAST, `postal_code` ASC NULLS LAST, `city` ASC NULLS LAST, `region` ASC NULLS LAST, `country` ASC NULLS LAST, `language` ASC NULLS LAST, `device` ASC NULLS LAST, `newsletter` ASC NULLS LAST, `signup_date` ASC NULLS LAST, `last_activity` ASC NULLS LAST, `mobile` ASC NULLS LAST, `sms_optin` ASC NULLS LAST) AS `__rn`
  FROM `contacts`
  WHERE ((NOT (lower(trim(`email`)) IS NULL)) AND (lower(trim(`email`)) <> ''))
),
`__c` AS (
  SELECT `__key` AS `__key`, `email` AS `email`, `first_name` AS `first_name`, `last_name` AS `last_name`, `civility` AS `civility`, `birth_date` AS `birth_date`, `postal_code` AS `postal_code`, `city` AS `city`, `region` AS `region`, `country` AS `country`, `language` AS `language`, `device` AS `device`, `newsletter` AS `newsletter`, `signup_date` AS `signup_date`, `last_activity` AS `last_activity`, `mobile` AS `mobile`, `sms_optin` AS `sms_optin`
  FROM `__ranked`
  WHERE (`__rn` = 1)
),
`__rows_tickets` AS (
  SELECT lower(trim(`email`)) AS `__key`, `order_id` AS `order_id`, lower(trim(`email`)) AS `email`, `event` AS `event`, `edition_date` AS `edition_date`, `tariff` AS `tariff`, `status` AS `status`, `point_of_sale` AS `point_of_sale`, `promo_code` AS `promo_code`, `amount` AS `amount`, `ordered_at` AS `ordered_at`
  FROM `tickets`
),
`__agg_tickets` AS (
  SELECT `__key` AS `__key`, count(CASE WHEN ((coalesce((REGEXP_REPLACE(NORMALIZE(LOWER(`event`), NFD), r'\pM', '') = 'festival lumieres 2025'), FALSE) AND coalesce((REGEXP_REPLACE(NORMALIZE(LOWER(`status`), NFD), r'\pM', '') = 'scanned'), FALSE))) THEN 1 END) AS `__raw0`
  FROM `__rows_tickets`
  GROUP BY `__key`
),
`__f` AS (
  SELECT `__key` AS `__key`, `email` AS `email`, `first_name` AS `first_name`, `last_name` AS `last_name`, `civility` AS `civility`, `birth_date` AS `birth_date`, `postal_code` AS `postal_code`, `city` AS `city`, `region` AS `region`, `country` AS `country`, `language` AS `language`, `device` AS `device`, `newsletter` AS `newsletter`, `signup_date` AS `signup_date`, `last_activity` AS `last_activity`, `mobile` AS `mobile`, `sms_optin` AS `sms_optin`, coalesce(`__raw0`, 0) AS `__a0`
  FROM `__c` LEFT JOIN `__agg_tickets` USING (`__key`)
),
`__g` AS (
  SELECT *, coalesce((`__key` IN ('anaismuller@hotmail.fr', 'lina.dupont@orange.fr', 'veroniquenoel@free.fr', 'l.lecomte@gmail.com', 'thomas.michel@orange.fr', 'j.guillaume@free.fr', 'duval.lucie@bluewin.ch', 'grousseau@orange.fr', 'isabelle.pelletier79@orange.fr', 'j.berger@gmail.com', 'raphael.lebrun@sfr.fr', 'eric_royer@yahoo.fr', 'r.faure@gmail', 'karim.saint-martin@gmail.com', 'lroyer@yahoo.fr', 'pauline.meyer@gmail.com', 'herve.rolland.gmail.com', 'bboyer@hotmail.fr', 'bastienhubert@live.fr', 'moniquebrunet@gmail.com', 'llacroix@bbox.fr', 'omorin@outlook.fr', 'sophie.nicolas@orange.fr', 'genevieverichard@gmail', 'lina.lemaitre@wanadoo.fr', 'emma.richard@icloud.com', 'nathalie.perez@wanadoo.fr', 'fguerin@gmail', 'patrickcaron@gmx.ch', 'fabrice.prevost@gmail.com', 'anais_thomas@icloud.com.', 'vidal.anne-sophie@gmail.com', 'loic_leroux@sfr.fr', 'claire.jacquet@yahoo.fr', 'catherine.aubry@gmail.com', 'nadia.picard@orange.fr', 'yves.fleury@yahoo.fr', 'sylvie.renaud64@hotmail.com', 'diallo.herve@wanadoo.fr', 'bernard.lefebvre@laposte.net', 'christine.thomas83@gmail.com', 'a.deschamps@free.fr', 'kevin.marty@free.fr', 'etienne_rodriguez@yahoo.fr', 'lea.rolland@web.de', 'abrunet@orange.fr', 'nicolas.poirier@gmail.com', 'stephanie.riviere980@gmail.com', 'leger.raphael@laposte.net', 'lina.saint-martin@hotmail.fr', 'catherine.bertrand@gmail.com', 'christineleclerc@yahoo.fr', 'theo.breton@free.fr', 'lina.barbier@sfr.fr', 'monique.maillard@outlook.fr', 'louis.leger@gmail.com', 'valerieleclerc@gmail.com')), FALSE) AS `__sup_marketing`, coalesce((`__key` IN ('anaismuller@hotmail.fr', 'lina.dupont@orange.fr', 'veroniquenoel@free.fr', 'l.lecomte@gmail.com', 'thomas.michel@orange.fr', 'j.guillaume@free.fr', 'duval.lucie@bluewin.ch', 'grousseau@orange.fr', 'isabelle.pelletier79@orange.fr', 'j.berger@gmail.com', 'raphael.lebrun@sfr.fr', 'eric_royer@yahoo.fr', 'r.faure@gmail', 'karim.saint-martin@gmail.com', 'lroyer@yahoo.fr', 'pauline.meyer@gmail.com', 'herve.rolland.gmail.com', 'bboyer@hotmail.fr', 'bastienhubert@live.fr', 'moniquebrunet@gmail.com', 'llacroix@bbox.fr', 'omorin@outlook.fr', 'sophie.nicolas@orange.fr', 'genevieverichard@gmail', 'lina.lemaitre@wanadoo.fr', 'emma.richard@icloud.com', 'nathalie.perez@wanadoo.fr', 'fguerin@gmail', 'patrickcaron@gmx.ch', 'fabrice.prevost@gmail.com', 'anais_thomas@icloud.com.')), FALSE) AS `__sup_informational`, coalesce(((REGEXP_REPLACE(NORMALIZE(LOWER(trim(`newsletter`)), NFD), r'\pM', '') IN ('true', '1', 'yes', 'y', 'oui', 'o', 'vrai', 'x'))), FALSE) AS `__consent`, coalesce(REGEXP_CONTAINS(`__key`, '^[^@\\s]+@[^@\\s.]+(\\.[^@\\s.]+)+$'), FALSE) AS `__valid`
  FROM `__f`
)
SELECT `email` AS `email`, `first_name` AS `first_name`, `last_name` AS `last_name`, `civility` AS `civility`, `birth_date` AS `birth_date`, `postal_code` AS `postal_code`, `city` AS `city`, `region` AS `region`, `country` AS `country`, `language` AS `language`, `device` AS `device`, `newsletter` AS `newsletter`, `signup_date` AS `signup_date`, `last_activity` AS `last_activity`, `mobile` AS `mobile`, `sms_optin` AS `sms_optin`
FROM `__g`
WHERE (coalesce((CAST(`__a0` AS FLOAT64) >= 1.0), FALSE) AND (NOT `__sup_informational`) AND TRUE AND `__valid`)
ORDER BY `__key` ASC NULLS LAST;
