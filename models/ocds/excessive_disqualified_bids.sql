/* searchlight
id          = "ocds.excessive_disqualified_bids"
catalog     = "R038"
title       = "投标被否决比例异常高"
title_en    = "Excessive disqualified bids (OCP R038)"
domain      = "procurement"
area        = "开放合同红旗(OCDS)"
severity    = "medium"
owner       = "党风政风监督室"
description = """
采购人、采购代理(执行)机构收到的投标中被否决的比例，或投标人自己的投标被否决的比例，不低于同类全体该比例的
IQR 上界(Q3 + 1.5·IQR，Hyndman–Fan 第8类分位数)或设定阈值的，为以否决操纵结果(采购人、代理机构)
或长期陪标(投标人)的疑点。开放合同伙伴关系(OCP)红旗指标 R038。缺采购人标识的流程列为“无法判断”。"""
basis = [
  "《中华人民共和国招标投标法实施条例》第五十一条：否决投标的情形须有法定依据",
  "《中华人民共和国招标投标法实施条例》第四十一条：禁止招标人与投标人串通投标",
  "Open Contracting Partnership, Red flags for integrity (2024), R038 Excessive disqualified bids",
]
entity = ["party_role", "party_id"]
unit   = "party_name"

[params]
threshold                     = { type = "float", default = 0.0, min = 0.0, max = 1.0, doc = "否决比例不低于此即列出；0 为用 IQR 上界([R038] threshold)" }
minimum_submitted_bids        = { type = "int", default = 2, min = 1, max = 10000, doc = "投标人至少投标几次才参与比较([R038] minimum_submitted_bids)" }
minimum_contracting_processes = { type = "int", default = 2, min = 1, max = 10000, doc = "采购人、代理机构至少收到几份投标才参与比较([R038] minimum_contracting_processes)" }
excluded_details              = { type = "text", default = "", doc = "不参与任何指标的采购方式明细，以 | 分隔([exclusions] procurement_method_details)" }

[labels]
party_role   = "对象类别"
party_id     = "对象标识"
party_name   = "对象名称"
disqualified = "被否决投标数"
submitted    = "投标数"
ratio        = "否决比例"
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
),
submitted AS (
    -- each submitted bid once: disqualified or not
    SELECT b.ocid, b.bid_no, max(CASE WHEN b.status = 'disqualified' THEN 1 ELSE 0 END) AS d
    FROM ocds_bids b
    JOIN p ON p.ocid = b.ocid
    WHERE b.status IS NOT NULL AND b.status NOT IN ('invited', 'withdrawn')
    GROUP BY b.ocid, b.bid_no
),
per_process AS (
    SELECT ocid, sum(d) AS d, count(*) AS n FROM submitted GROUP BY ocid
),
parties AS (
    SELECT '采购人' AS party_role, p.buyer_id AS party_id, max(p.buyer_name) AS party_name,
           sum(x.d) AS disqualified, sum(x.n) AS submitted
    FROM per_process x
    JOIN p ON p.ocid = x.ocid
    WHERE p.buyer_id IS NOT NULL
    GROUP BY p.buyer_id
    HAVING sum(x.n) >= $minimum_contracting_processes
    UNION ALL
    SELECT '采购代理(执行)机构', p.entity_id, max(p.entity_name), sum(x.d), sum(x.n)
    FROM per_process x
    JOIN p ON p.ocid = x.ocid
    WHERE p.entity_id IS NOT NULL
    GROUP BY p.entity_id
    HAVING sum(x.n) >= $minimum_contracting_processes
    UNION ALL
    -- a tenderer counts every bid it is named in
    SELECT '投标人', b.tenderer_id, max(b.tenderer_name), sum(s.d), count(*)
    FROM ocds_bids b
    JOIN submitted s ON s.ocid = b.ocid AND s.bid_no = b.bid_no
    WHERE b.tenderer_id IS NOT NULL
    GROUP BY b.tenderer_id
    HAVING count(*) >= $minimum_submitted_bids
),
fenced AS (
    SELECT party_role, party_id, party_name, disqualified, submitted,
           CAST(disqualified AS DOUBLE) / submitted AS ratio,
           CASE WHEN $threshold > 0 THEN $threshold
                ELSE iqr_upper_fence(CAST(disqualified AS DOUBLE) / submitted, 1.5, 8) OVER (PARTITION BY party_role) END AS fence
    FROM parties
)
SELECT party_role, party_id, party_name, disqualified, submitted, ratio, fence, CAST(NULL AS VARCHAR) AS unassessed
FROM fenced
WHERE fence > 0 AND ratio >= fence
UNION ALL
SELECT '采购人', NULL, NULL, NULL, count(*), NULL, NULL, '收到投标的流程缺采购人标识(buyer.id)'
FROM per_process x
JOIN p ON p.ocid = x.ocid
WHERE p.buyer_id IS NULL
HAVING count(*) > 0
