/* searchlight
id          = "ocds.lowest_bid_disqualified"
catalog     = "R036"
title       = "最低报价被否决"
title_en    = "Lowest bid disqualified (OCP R036)"
domain      = "procurement"
area        = "开放合同红旗(OCDS)"
severity    = "high"
owner       = "党风政风监督室"
description = """
比价且已有有效中标的采购流程中，报价最低的投标被否决、另有有效投标的，为以否决排除低价竞争者、
倾向特定投标人的疑点。开放合同伙伴关系(OCP)红旗指标 R036。只计主币种报价。"""
basis = [
  "《中华人民共和国招标投标法实施条例》第五十一条：否决投标的情形须有法定依据",
  "《政府采购货物和服务招标投标管理办法》(财政部令第87号)第六十三条：投标无效的情形",
  "Open Contracting Partnership, Red flags for integrity (2024), R036 Lowest bid disqualified",
]
entity = ["ocid"]
unit   = "buyer_name"

[params]
currency            = { type = "text", default = "", doc = "主币种；空为投标报价中最常见的币种(参考工具 currency)" }
no_price_comparison = { type = "text", default = "", doc = "不比价的采购方式明细，以 | 分隔(no_price_comparison_procurement_methods)" }
price_comparison    = { type = "text", default = "", doc = "只看这些比价的采购方式明细，以 | 分隔；设了则不看上一项(price_comparison_procurement_methods)" }
excluded_details    = { type = "text", default = "", doc = "不参与任何指标的采购方式明细，以 | 分隔([exclusions] procurement_method_details)" }

[labels]
lowest_bid     = "最低报价"
lowest_bidders = "最低报价人(被否决)"
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
    SELECT CASE WHEN $currency <> '' THEN $currency
                ELSE (SELECT currency FROM ocds_bids WHERE currency IS NOT NULL
                      GROUP BY currency ORDER BY count(*) DESC, currency LIMIT 1) END AS currency
),
priced AS (
    -- submitted bids in the main currency, once each, the lowest first
    SELECT ocid, bid_no, status, amount,
           row_number() OVER (PARTITION BY ocid ORDER BY amount, bid_no) AS r,
           max(CASE WHEN status = 'valid' THEN 1 ELSE 0 END) OVER (PARTITION BY ocid) AS any_valid
    FROM (
        SELECT DISTINCT ocid, bid_no, status, amount
        FROM ocds_bids
        WHERE status IS NOT NULL AND status NOT IN ('invited', 'withdrawn') AND amount IS NOT NULL
          AND currency = (SELECT currency FROM main)
    )
),
names AS (
    SELECT ocid, bid_no, string_agg(coalesce(tenderer_name, tenderer_id), '、') AS bidders
    FROM ocds_bids
    GROUP BY ocid, bid_no
)
SELECT p.ocid, p.title, p.buyer_name, x.amount AS lowest_bid, n.bidders AS lowest_bidders
FROM priced x
JOIN p ON p.ocid = x.ocid
LEFT JOIN names n ON n.ocid = x.ocid AND n.bid_no = x.bid_no
WHERE x.r = 1 AND x.status = 'disqualified' AND x.any_valid = 1
  AND x.ocid IN (SELECT ocid FROM ocds_awards WHERE status = 'active')
