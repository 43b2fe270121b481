-- The parts of a `combination` value (joined by chr(31)) as columns, each followed by a comma;
-- included by the filtered-* queries (`-- include: _combination-parts`).
      split_part(value, chr(31), 1) AS page,
      split_part(value, chr(31), 2) AS referrer,
      split_part(value, chr(31), 3) AS device,
      split_part(value, chr(31), 4) AS country,
      split_part(value, chr(31), 5) AS browser,
      split_part(value, chr(31), 6) AS os,
      split_part(value, chr(31), 7) AS utm_source,
      split_part(value, chr(31), 8) AS utm_medium,
      split_part(value, chr(31), 9) AS utm_campaign,
