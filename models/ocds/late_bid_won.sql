/* searchlight
id          = "ocds.late_bid_won"
catalog     = "R030"
title       = "逾期投标却中标"
title_en    = "Late bid won (OCP R030)"
domain      = "procurement"
area        = "开放合同红旗(OCDS)"
severity    = "high"
owner       = "党风政风监督室"
description = """
有效投标的投标时间晚于投标截止时间(tender.tenderPeriod.endDate)，而该投标人是有效中标的供应商的，
逾期投标本应拒收，为招标人与投标人串通、违规接收的疑点。开放合同伙伴关系(OCP)红旗指标 R030。
缺投标截止时间或投标时间的流程列为“无法判断”。"""
basis = [
  "《中华人民共和国招标投标法》第二十八条：在招标文件要求提交投标文件的截止时间后送达的投标文件，招标人应当拒收",
  "《中华人民共和国招标投标法实施条例》第三十六条：逾期送达的投标文件，招标人应当拒收",
  "Open Contracting Partnership, Red flags for integrity (2024), R030 Late bid won",
]
entity = ["ocid"]
unit   = "buyer_name"

[params]
excluded_details = { type = "text", default = "", doc = "不参与任何指标的采购方式明细，以 | 分隔([exclusions] procurement_method_details)" }

[labels]
tenderer_id   = "中标人标识"
tenderer_name = "中标人"
bid_date      = "投标时间"
period_end    = "投标截止时间"
unassessed    = "无法判断的原因"
*/
WITH p AS (
    SELECT *
    FROM ocds_processes
    WHERE ocid IS NOT NULL
      AND (tender_status IS NULL OR tender_status <> 'cancelled')
      AND (method_details IS NULL OR $excluded_details = ''
           OR NOT array_has(string_to_array($excluded_details, '|'), method_details))
),
winners AS (
    SELECT DISTINCT ocid, supplier_id FROM ocds_awards WHERE status = 'active' AND supplier_id IS NOT NULL
)
SELECT b.ocid, p.title, p.buyer_name, b.tenderer_id, max(b.tenderer_name) AS tenderer_name,
       max(b.bid_date) AS bid_date, p.period_end, CAST(NULL AS VARCHAR) AS unassessed
FROM ocds_bids b
JOIN p ON p.ocid = b.ocid
JOIN winners w ON w.ocid = b.ocid AND w.supplier_id = b.tenderer_id
WHERE b.status = 'valid' AND b.bid_date > p.period_end
GROUP BY b.ocid, p.title, p.buyer_name, b.tenderer_id, p.period_end
UNION ALL
SELECT p.ocid, p.title, p.buyer_name, NULL, NULL, NULL, p.period_end,
       CASE WHEN p.period_end IS NULL THEN '缺投标截止时间(tender.tenderPeriod.endDate)'
            ELSE '有效投标缺投标时间(bids.details.date)' END
FROM p
WHERE p.ocid IN (SELECT ocid FROM ocds_awards)
  AND ((p.period_end IS NULL AND p.ocid IN (SELECT ocid FROM ocds_bids))
       OR (p.period_end IS NOT NULL
           AND p.ocid IN (SELECT ocid FROM ocds_bids WHERE status = 'valid' AND bid_date IS NULL)))
