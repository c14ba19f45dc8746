/* searchlight
id          = "ocds.all_except_winner_disqualified"
catalog     = "R035"
title       = "除中标人外的投标均被否决"
title_en    = "All except winning bid disqualified (OCP R035)"
domain      = "procurement"
area        = "开放合同红旗(OCDS)"
severity    = "high"
owner       = "党风政风监督室"
description = """
中标全部已定的流程中，只有中标人的投标有效，其他投标人(不少于阈值家)的投标全部被否决的，为评标倾向、
以否决排除竞争对手的疑点。开放合同伙伴关系(OCP)红旗指标 R035。中标尚未确定的流程列为“无法判断”。"""
basis = [
  "《中华人民共和国招标投标法实施条例》第五十一条：否决投标的情形须有法定依据",
  "《中华人民共和国招标投标法实施条例》第四十一条：禁止招标人与投标人串通投标",
  "Open Contracting Partnership, Red flags for integrity (2024), R035 All except winning bid disqualified",
]
entity = ["ocid"]
unit   = "buyer_name"

[params]
threshold        = { type = "int", default = 1, min = 1, max = 100, doc = "至少几家其他投标人被否决([R035] threshold)" }
excluded_details = { type = "text", default = "", doc = "不参与任何指标的采购方式明细，以 | 分隔([exclusions] procurement_method_details)" }

[labels]
winner_id    = "中标人标识"
winner_name  = "中标人"
disqualified = "被否决的其他投标人数"
unassessed   = "无法判断的原因"
*/
WITH p AS (
    SELECT *
    FROM ocds_processes
    WHERE ocid IS NOT NULL
      AND (tender_status IS NULL OR tender_status <> 'cancelled')
      AND (method_details IS NULL OR $excluded_details = ''
           OR NOT array_has(string_to_array($excluded_details, '|'), method_details))
),
final AS (
    -- every award final (active, cancelled, unsuccessful)
    SELECT ocid
    FROM ocds_awards
    GROUP BY ocid
    HAVING min(CASE WHEN status IS NULL OR status IN ('active', 'cancelled', 'unsuccessful') THEN 1 ELSE 0 END) = 1
),
valid AS (
    SELECT ocid, count(DISTINCT tenderer_id) AS n, max(tenderer_id) AS id, max(tenderer_name) AS name
    FROM ocds_bids
    WHERE status = 'valid' AND tenderer_id IS NOT NULL
    GROUP BY ocid
),
suppliers AS (
    SELECT ocid, count(DISTINCT supplier_id) AS n, max(supplier_id) AS id
    FROM ocds_awards
    WHERE status = 'active' AND supplier_id IS NOT NULL
    GROUP BY ocid
),
others AS (
    -- disqualified tenderers other than the one valid tenderer
    SELECT d.ocid, count(DISTINCT d.tenderer_id) AS n
    FROM ocds_bids d
    JOIN valid v ON v.ocid = d.ocid
    WHERE d.status = 'disqualified' AND d.tenderer_id IS NOT NULL AND d.tenderer_id <> v.id
    GROUP BY d.ocid
)
SELECT p.ocid, p.title, p.buyer_name, v.id AS winner_id, v.name AS winner_name, o.n AS disqualified,
       CAST(NULL AS VARCHAR) AS unassessed
FROM p
JOIN final f ON f.ocid = p.ocid
JOIN valid v ON v.ocid = p.ocid AND v.n = 1
JOIN suppliers s ON s.ocid = p.ocid AND s.n = 1 AND s.id = v.id
JOIN others o ON o.ocid = p.ocid
WHERE o.n >= $threshold
UNION ALL
SELECT p.ocid, p.title, p.buyer_name, NULL, NULL, NULL, '中标尚未全部确定(有待定的中标)'
FROM p
WHERE p.ocid IN (SELECT ocid FROM ocds_bids)
  AND p.ocid IN (SELECT ocid FROM ocds_awards)
  AND p.ocid NOT IN (SELECT ocid FROM final)
