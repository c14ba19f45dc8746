/* searchlight
id          = "ocds.short_submission_period"
catalog     = "R003"
title       = "投标期过短"
title_en    = "Short submission period (OCP R003)"
domain      = "procurement"
area        = "开放合同红旗(OCDS)"
severity    = "medium"
owner       = "党风政风监督室"
description = """
采购流程自投标开始(tender.tenderPeriod.startDate)至投标截止(endDate)的整日数少于阈值的，投标人准备时间不足，
为量身定制、排斥潜在投标人的疑点。阈值可按采购方式明细分别设定。开放合同伙伴关系(OCP)红旗指标 R003，
定义、默认值与排除规则同其参考实现(OCDS Cardinal)。已取消的招标、排除的采购方式明细不看；缺投标起止时间的流程
列为“无法判断”，不当作没有问题。"""
basis = [
  "《中华人民共和国招标投标法》第二十四条：依法必须进行招标的项目，自招标文件开始发出之日起至投标人提交投标文件截止之日止，最短不得少于二十日",
  "《政府采购货物和服务招标投标管理办法》(财政部令第87号)第十八条：公开招标采购项目等标期不得少于二十日",
  "Open Contracting Partnership, Red flags for integrity (2024), R003 Short submission period",
]
entity = ["ocid"]
unit   = "buyer_name"

[params]
threshold           = { type = "int", default = 15, min = 0, max = 365, doc = "投标期少于几整日(参考工具 [R003] threshold)" }
procurement_methods = { type = "text", default = "", doc = "只看这些采购方式(procurementMethod)，以 | 分隔；空为全部([R003] procurement_methods)" }
details_thresholds  = { type = "text", default = "", doc = "按采购方式明细另设阈值，如 询价=3|竞争性谈判=10([R003.procurement_method_details])" }
excluded_details    = { type = "text", default = "", doc = "不参与任何指标的采购方式明细，以 | 分隔([exclusions] procurement_method_details)" }

[labels]
days        = "投标期(整日)"
threshold   = "阈值(日)"
unassessed  = "无法判断的原因"
*/
WITH limits AS (
    -- the per-details thresholds, `询价=3|竞争性谈判=10`
    SELECT split_part(x, '=', 1) AS details, CAST(split_part(x, '=', 2) AS BIGINT) AS days
    FROM (SELECT unnest(string_to_array($details_thresholds, '|')) AS x)
    WHERE x <> ''
),
p AS (
    SELECT *
    FROM ocds_processes
    WHERE ocid IS NOT NULL
      AND (tender_status IS NULL OR tender_status <> 'cancelled')
      AND (method_details IS NULL OR $excluded_details = ''
           OR NOT array_has(string_to_array($excluded_details, '|'), method_details))
      AND ($procurement_methods = ''
           OR coalesce(array_has(string_to_array($procurement_methods, '|'), method), false))
),
measured AS (
    SELECT p.ocid, p.title, p.buyer_name, p.method, p.method_details, p.period_start, p.period_end,
           -- whole days, as a duration counts them (towards zero)
           CAST(trunc((date_part('epoch', p.period_end) - date_part('epoch', p.period_start)) / 86400) AS BIGINT) AS days,
           coalesce(l.days, $threshold) AS threshold
    FROM p
    LEFT JOIN limits l ON l.details = p.method_details
)
SELECT ocid, title, buyer_name, method, method_details, period_start, period_end, days, threshold,
       CAST(NULL AS VARCHAR) AS unassessed
FROM measured
WHERE days < threshold
UNION ALL
SELECT ocid, title, buyer_name, method, method_details, period_start, period_end, days, threshold,
       '缺投标起止时间(tender.tenderPeriod)' AS unassessed
FROM measured
WHERE period_start IS NULL OR period_end IS NULL
