/* searchlight
id          = "ocds.identical_bid_prices"
catalog     = "R028"
title       = "不同投标人报价完全相同"
title_en    = "Identical bid prices (OCP R028)"
domain      = "procurement"
area        = "开放合同红旗(OCDS)"
severity    = "high"
owner       = "党风政风监督室"
description = """
比价的采购流程中，不同投标人(或投标联合体)提交的报价金额与币种完全相同的，为投标文件异常一致、串通投标的疑点。
开放合同伙伴关系(OCP)红旗指标 R028。列出报价相同的各投标人；投标缺投标人标识的流程列为“无法判断”。"""
basis = [
  "《中华人民共和国招标投标法实施条例》第四十条第(四)项：不同投标人的投标文件异常一致或者投标报价呈规律性差异，视为投标人相互串通投标",
  "《政府采购货物和服务招标投标管理办法》(财政部令第87号)第三十七条第(四)项",
  "Open Contracting Partnership, Red flags for integrity (2024), R028 Identical bid prices",
]
entity = ["ocid"]
unit   = "buyer_name"

[params]
no_price_comparison = { type = "text", default = "", doc = "不比价的采购方式明细，以 | 分隔(no_price_comparison_procurement_methods)" }
price_comparison    = { type = "text", default = "", doc = "只看这些比价的采购方式明细，以 | 分隔；设了则不看上一项(price_comparison_procurement_methods)" }
excluded_details    = { type = "text", default = "", doc = "不参与任何指标的采购方式明细，以 | 分隔([exclusions] procurement_method_details)" }

[labels]
tenderer_id   = "投标人标识"
tenderer_name = "投标人"
amount        = "报价"
currency      = "币种"
unassessed    = "无法判断的原因"
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
submitted AS (
    SELECT b.*
    FROM ocds_bids b
    JOIN p ON p.ocid = b.ocid
    WHERE b.status IS NOT NULL AND b.status NOT IN ('invited', 'withdrawn')
      AND b.amount IS NOT NULL AND b.currency IS NOT NULL
),
bids AS (
    -- each priced bid with the set of its identified tenderers
    SELECT ocid, bid_no, amount, currency,
           array_to_string(array_sort(array_distinct(array_agg(tenderer_id))), '|') AS tenderer_set
    FROM submitted
    WHERE tenderer_id IS NOT NULL
    GROUP BY ocid, bid_no, amount, currency
),
same AS (
    -- a price and currency bid by more than one set of tenderers
    SELECT ocid, amount, currency
    FROM bids
    GROUP BY ocid, amount, currency
    HAVING count(DISTINCT tenderer_set) > 1
)
SELECT DISTINCT s.ocid, p.title, p.buyer_name, x.tenderer_id, x.tenderer_name, s.amount, s.currency,
       CAST(NULL AS VARCHAR) AS unassessed
FROM same s
JOIN bids b ON b.ocid = s.ocid AND b.amount = s.amount AND b.currency = s.currency
JOIN submitted x ON x.ocid = b.ocid AND x.bid_no = b.bid_no AND x.tenderer_id IS NOT NULL
JOIN p ON p.ocid = s.ocid
UNION ALL
SELECT p.ocid, p.title, p.buyer_name, NULL, NULL, NULL, NULL, '有报价的投标缺投标人标识(bids.details.tenderers.id)'
FROM p
WHERE p.ocid IN (
    SELECT ocid FROM submitted GROUP BY ocid, bid_no HAVING count(tenderer_id) = 0
)
