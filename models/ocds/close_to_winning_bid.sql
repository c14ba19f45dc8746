/* searchlight
id          = "ocds.close_to_winning_bid"
catalog     = "R024"
title       = "次低报价与中标价异常接近"
title_en    = "Price close to winning bid (OCP R024)"
domain      = "procurement"
area        = "开放合同红旗(OCDS)"
severity    = "medium"
owner       = "党风政风监督室"
description = """
比价的采购流程中，其他投标人最低有效报价高出中标报价的比例，不高于全部流程该比例的 IQR 下界
(Q1 − 1.5·IQR，Hyndman–Fan 第8类分位数)或设定的阈值的，报价贴近中标价，为串通投标、陪标的疑点。
开放合同伙伴关系(OCP)红旗指标 R024。只看全部中标已定、唯一有效中标且中标人唯一的流程，只计主币种报价；
缺这些的流程列为“无法判断”。"""
basis = [
  "《中华人民共和国招标投标法实施条例》第四十条第(四)项：不同投标人的投标报价呈规律性差异，视为投标人相互串通投标",
  "Open Contracting Partnership, Red flags for integrity (2024), R024 Price close to winning bid",
]
entity = ["ocid"]
unit   = "buyer_name"

[params]
threshold           = { type = "float", default = 0.0, min = 0.0, max = 100.0, doc = "比例不高于此即列出；0 为用 IQR 下界([R024] threshold)" }
currency            = { type = "text", default = "", doc = "主币种；空为投标报价中最常见的币种(参考工具 currency)" }
no_price_comparison = { type = "text", default = "", doc = "不比价的采购方式明细，以 | 分隔(no_price_comparison_procurement_methods)" }
price_comparison    = { type = "text", default = "", doc = "只看这些比价的采购方式明细，以 | 分隔；设了则不看上一项(price_comparison_procurement_methods)" }
excluded_details    = { type = "text", default = "", doc = "不参与任何指标的采购方式明细，以 | 分隔([exclusions] procurement_method_details)" }

[labels]
winner_id    = "中标人标识"
winner_name  = "中标人"
winning_bid  = "中标报价"
second_id    = "次低报价人标识"
second_name  = "次低报价人"
second_bid   = "次低报价"
ratio        = "高出中标价比例"
fence        = "判定界限"
unassessed   = "无法判断的原因"
*/
WITH p AS (
    SELECT *
    FROM ocds_processes
    WHERE ocid IS NOT NULL
      AND (tender_status IS NULL OR tender_status <> 'cancelled')
      AND (method_details IS NULL OR $excluded_details = ''
           OR NOT array_has(string_to_array($excluded_details, '|'), method_details))
      AND CASE WHEN $price_comparison <> ''
               THEN coalesce(array_has(string_to_array($price_comparison, '|'), method_details), false)
               ELSE method_details IS NULL OR $no_price_comparison = ''
                    OR NOT array_has(string_to_array($no_price_comparison, '|'), method_details) END
),
main AS (
    -- the main currency: the setting, or the one most bids are priced in
    SELECT CASE WHEN $currency <> '' THEN $currency
                ELSE (SELECT currency FROM ocds_bids WHERE currency IS NOT NULL
                      GROUP BY currency ORDER BY count(*) DESC, currency LIMIT 1) END AS currency
),
awarded AS (
    -- every award final, exactly one active award
    SELECT ocid
    FROM ocds_awards
    GROUP BY ocid
    HAVING min(CASE WHEN status IS NULL OR status IN ('active', 'cancelled', 'unsuccessful') THEN 1 ELSE 0 END) = 1
       AND count(DISTINCT CASE WHEN status = 'active' THEN award_no END) = 1
),
sole AS (
    -- ... naming exactly one identified supplier
    SELECT a.ocid, x.supplier_id
    FROM awarded a
    JOIN ocds_awards x ON x.ocid = a.ocid AND x.status = 'active'
    WHERE x.suppliers = 1 AND x.supplier_id IS NOT NULL
),
ranked AS (
    -- valid bids of one identified tenderer in the main currency: the winner's lowest, the others' lowest
    SELECT s.ocid, b.tenderer_id, b.tenderer_name, CAST(b.amount AS DOUBLE) AS amount,
           b.tenderer_id = s.supplier_id AS won,
           row_number() OVER (PARTITION BY s.ocid, b.tenderer_id = s.supplier_id ORDER BY b.amount, b.bid_no) AS r
    FROM sole s
    JOIN p ON p.ocid = s.ocid
    JOIN ocds_bids b ON b.ocid = s.ocid
    WHERE b.status = 'valid' AND b.tenderers = 1 AND b.tenderer_id IS NOT NULL AND b.amount IS NOT NULL
      AND b.currency = (SELECT currency FROM main)
),
pairs AS (
    -- the winner's lowest bid and the lowest other bid of each process, side by side
    SELECT ocid, winner_id, winner_name, winning_bid, second_id, second_name, second_bid,
           (second_bid - winning_bid) / winning_bid AS ratio
    FROM (
        SELECT ocid,
               max(CASE WHEN won THEN tenderer_id END) AS winner_id,
               max(CASE WHEN won THEN tenderer_name END) AS winner_name,
               max(CASE WHEN won THEN amount END) AS winning_bid,
               max(CASE WHEN NOT won THEN tenderer_id END) AS second_id,
               max(CASE WHEN NOT won THEN tenderer_name END) AS second_name,
               max(CASE WHEN NOT won THEN amount END) AS second_bid
        FROM ranked
        WHERE r = 1
        GROUP BY ocid
    )
    WHERE winner_id IS NOT NULL AND second_id IS NOT NULL AND second_bid >= winning_bid
),
scored AS (
    -- the fence over every process's ratio, beside each ratio: one pass over the pairs
    SELECT x.*, quantile_type8(ratio, 0.25) OVER () AS q1, iqr_lower_fence(ratio, 1.5, 8) OVER () AS lower
    FROM pairs x
)
SELECT x.ocid, p.title, p.buyer_name, x.winner_id, x.winner_name, x.winning_bid, x.second_id, x.second_name,
       x.second_bid, x.ratio, CASE WHEN $threshold > 0 THEN $threshold ELSE x.lower END AS fence,
       CAST(NULL AS VARCHAR) AS unassessed
FROM scored x
JOIN p ON p.ocid = x.ocid
WHERE CASE WHEN $threshold > 0 THEN x.ratio <= $threshold
           ELSE x.q1 > 0 AND x.lower > 0 AND x.ratio <= x.lower END
UNION ALL
SELECT p.ocid, p.title, p.buyer_name, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       '缺一个已定的唯一中标人(全部中标已定、唯一有效中标且中标人唯一)' AS unassessed
FROM p
WHERE p.ocid IN (SELECT ocid FROM ocds_bids)
  AND p.ocid NOT IN (SELECT ocid FROM sole)
