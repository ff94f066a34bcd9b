-- name: base.rfm_groups
-- description: Named RFM groups (after Shopify's), as rules over the recency, frequency and monetary scores; the first rule that holds names the group.
-- columns:
--   rfm_group(r, f, m)   a scalar macro: Champions, Loyal, Active, Needs attention, Promising, New,
--                        Almost lost, At risk, Previously loyal or Dormant (customers without
--                        purchases are Prospects and have no scores)
CREATE OR REPLACE TEMP MACRO rfm_group(r, f, m) AS
    CASE
        WHEN r >= 4 AND f >= 4 AND m >= 4 THEN 'Champions'
        WHEN r >= 3 AND f >= 4 THEN 'Loyal'
        WHEN r = 5 AND f = 1 THEN 'New'
        WHEN r >= 4 AND f <= 2 THEN 'Promising'
        WHEN r >= 4 THEN 'Active'
        WHEN r = 3 THEN 'Needs attention'
        WHEN r = 2 AND f >= 3 THEN 'At risk'
        WHEN r = 2 THEN 'Almost lost'
        WHEN r = 1 AND f >= 4 THEN 'Previously loyal'
        ELSE 'Dormant'
    END;
