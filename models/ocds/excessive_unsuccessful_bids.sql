/* searchlight
id          = "ocds.excessive_unsuccessful_bids"
catalog     = "R025"
title       = "屡投不中：投标多而中标率异常低"
title_en    = "Excessive unsuccessful bids (OCP R025)"
domain      = "procurement"
area        = "开放合同红旗(OCDS)"
severity    = "low"
owner       = "党风政风监督室"
description = """
投标流程数不少于全体投标人该数的某一百分位(默认第75百分位)，而中标流程数与投标流程数之比不高于全体投标人
该比例的 IQR 下界(Q1 − 1.5·IQR，Hyndman–Fan 第8类分位数)或设定阈值的投标人，为长期陪标、配合围标的疑点。
开放合同伙伴关系(OCP)红旗指标 R025。只看全部中标已定、唯一有效中标且中标人唯一的流程；投标人参与的流程缺这些的，
该投标人列为“无法判断”。"""
basis = [
  "《中华人民共和国招标投标法》第三十二条：投标人不得相互串通投标报价",
  "《中华人民共和国招标投标法实施条例》第三十九条、第四十条：串通投标的认定",
  "Open Contracting Partnership, Red flags for integrity (2024), R025 Excessive unsuccessful bids",
]
entity = ["tenderer_id"]
unit   = "tenderer_name"

[params]
percentile       = { type = "float", default = 75.0, min = 0.0, max = 100.0, doc = "投标流程数不少于全体的第几百分位([R025] percentile)" }
threshold        = { type = "float", default = 0.0, min = 0.0, max = 1.0, doc = "中标率不高于此即列出；0 为用 IQR 下界([R025] threshold)" }
excluded_details = { type = "text", default = "", doc = "不参与任何指标的采购方式明细，以 | 分隔([exclusions] procurement_method_details)" }

[labels]
tenderer_id   = "投标人标识"
tenderer_name = "投标人"
processes     = "投标流程数"
wins          = "中标流程数"
ratio         = "中标率"
many          = "投标流程数下限(百分位)"
fence         = "中标率判定界限"
unassessed    = "无法判断的原因"
*/
WITH p AS (
    SELECT ocid
    FROM ocds_processes
    WHERE ocid IS NOT NULL
      AND (tender_status IS NULL OR tender_status <> 'cancelled')
      AND (method_details IS NULL OR $excluded_details = ''
           OR NOT array_has(string_to_array($excluded_details, '|'), method_details))
),
awarded AS (
    SELECT ocid
    FROM ocds_awards
    GROUP BY ocid
    HAVING min(CASE WHEN status IS NULL OR status IN ('active', 'cancelled', 'unsuccessful') THEN 1 ELSE 0 END) = 1
       AND count(DISTINCT CASE WHEN status = 'active' THEN award_no END) = 1
),
sole AS (
    SELECT a.ocid, x.supplier_id
    FROM awarded a
    JOIN ocds_awards x ON x.ocid = a.ocid AND x.status = 'active'
    JOIN p ON p.ocid = a.ocid
    WHERE x.suppliers = 1 AND x.supplier_id IS NOT NULL
),
entries AS (
    -- each tenderer of a valid single-tenderer bid, once per process
    SELECT s.ocid, b.tenderer_id, max(b.tenderer_name) AS tenderer_name,
           max(CASE WHEN b.tenderer_id = s.supplier_id THEN 1 ELSE 0 END) AS won
    FROM sole s
    JOIN ocds_bids b ON b.ocid = s.ocid
    WHERE b.status = 'valid' AND b.tenderers = 1 AND b.tenderer_id IS NOT NULL
    GROUP BY s.ocid, b.tenderer_id
),
per AS (
    SELECT tenderer_id, max(tenderer_name) AS tenderer_name, count(*) AS processes, sum(won) AS wins,
           CAST(sum(won) AS DOUBLE) / count(*) AS ratio
    FROM entries
    GROUP BY tenderer_id
),
fence AS (
    SELECT quantile_type8(CAST(processes AS DOUBLE), $percentile / 100.0) AS many,
           quantile_type8(ratio, 0.25) AS q1, iqr_lower_fence(ratio, 1.5, 8) AS lower
    FROM per
)
SELECT x.tenderer_id, x.tenderer_name, x.processes, x.wins, x.ratio, f.many,
       CASE WHEN $threshold > 0 THEN $threshold ELSE f.lower END AS fence, CAST(NULL AS VARCHAR) AS unassessed
FROM per x
CROSS JOIN fence f
WHERE x.processes >= f.many
  AND CASE WHEN $threshold > 0 THEN x.ratio <= $threshold ELSE f.q1 > 0 AND f.lower > 0 AND x.ratio <= f.lower END
UNION ALL
SELECT b.tenderer_id, max(b.tenderer_name), count(DISTINCT b.ocid), NULL, NULL, NULL, NULL,
       '所投流程缺一个已定的唯一中标人' AS unassessed
FROM ocds_bids b
JOIN p ON p.ocid = b.ocid
WHERE b.tenderer_id IS NOT NULL
  AND b.ocid NOT IN (SELECT ocid FROM sole)
GROUP BY b.tenderer_id
