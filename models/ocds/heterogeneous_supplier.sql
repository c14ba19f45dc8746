/* searchlight
id          = "ocds.heterogeneous_supplier"
catalog     = "R048"
title       = "供应商中标品目跨度异常大"
title_en    = "Heterogeneous supplier (OCP R048)"
domain      = "procurement"
area        = "开放合同红旗(OCDS)"
severity    = "low"
owner       = "党风政风监督室"
description = """
供应商在有效的唯一供应商中标中供应的品目，按分类编码前几位(默认前2位)计的类别数，不低于全体同类供应商
该数的 IQR 上界(Q3 + 1.5·IQR，Hyndman–Fan 第8类分位数)或设定阈值的，什么都能供，为挂靠、借用资质或
空壳中间商的疑点。只比较中标流程数不少于最低数(默认20)的供应商。开放合同伙伴关系(OCP)红旗指标 R048。
中标品目缺分类编码的供应商列为“无法判断”。"""
basis = [
  "《中华人民共和国招标投标法实施条例》第四十二条：使用通过受让或者租借等方式获取的资格、资质证书投标的，属于以他人名义投标",
  "Open Contracting Partnership, Red flags for integrity (2024), R048 Heterogeneous supplier",
]
entity = ["supplier_id"]
unit   = "supplier_name"

[params]
digits                        = { type = "int", default = 2, min = 1, max = 20, doc = "按分类编码前几位分类([R048] digits)" }
threshold                     = { type = "float", default = 0.0, min = 0.0, max = 100000.0, doc = "类别数不低于此即列出；0 为用 IQR 上界([R048] threshold)" }
minimum_contracting_processes = { type = "int", default = 20, min = 1, max = 100000, doc = "供应商至少中标几个流程才参与比较([R048] minimum_contracting_processes)" }
excluded_details              = { type = "text", default = "", doc = "不参与任何指标的采购方式明细，以 | 分隔([exclusions] procurement_method_details)" }

[labels]
supplier_id   = "供应商标识"
supplier_name = "供应商"
processes     = "中标流程数"
kinds         = "品目类别数"
fence         = "判定界限"
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
sole AS (
    -- active awards naming exactly one identified supplier
    SELECT a.ocid, a.award_no, a.supplier_id, a.supplier_name
    FROM ocds_awards a
    JOIN p ON p.ocid = a.ocid
    WHERE a.status = 'active' AND a.suppliers = 1 AND a.supplier_id IS NOT NULL
),
supplied AS (
    SELECT s.supplier_id, s.supplier_name, s.ocid, i.classification
    FROM ocds_items i
    JOIN sole s ON s.ocid = i.ocid AND s.award_no = i.award_no
),
per AS (
    SELECT supplier_id, max(supplier_name) AS supplier_name, count(DISTINCT ocid) AS processes,
           count(DISTINCT substr(classification, 1, $digits)) AS kinds
    FROM supplied
    WHERE classification IS NOT NULL
    GROUP BY supplier_id
    HAVING count(DISTINCT ocid) >= $minimum_contracting_processes
),
fenced AS (
    SELECT supplier_id, supplier_name, processes, kinds,
           CASE WHEN $threshold > 0 THEN $threshold
                ELSE iqr_upper_fence(CAST(kinds AS DOUBLE), 1.5, 8) OVER () END AS fence
    FROM per
)
SELECT supplier_id, supplier_name, processes, kinds, fence, CAST(NULL AS VARCHAR) AS unassessed
FROM fenced
WHERE kinds >= fence
UNION ALL
SELECT supplier_id, max(supplier_name), count(DISTINCT ocid), NULL, NULL, '中标品目缺分类编码(awards.items.classification.id)'
FROM supplied
WHERE classification IS NULL
GROUP BY supplier_id
