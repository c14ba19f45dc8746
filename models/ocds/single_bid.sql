/* searchlight
id          = "ocds.single_bid"
catalog     = "R018"
title       = "竞争性采购仅一家投标"
title_en    = "Single bid received (OCP R018)"
domain      = "procurement"
area        = "开放合同红旗(OCDS)"
severity    = "medium"
owner       = "党风政风监督室"
description = """
公开或邀请等竞争性方式的采购流程，投标人数(tender.numberOfTenderers)只有一家的，竞争不充分，
为设置门槛、排斥潜在投标人或事先内定的疑点。开放合同伙伴关系(OCP)红旗指标 R018。缺投标人数的流程列为“无法判断”。"""
basis = [
  "《中华人民共和国招标投标法》第二十八条：投标人少于三个的，招标人应当依照本法重新招标",
  "《中华人民共和国政府采购法实施条例》第二十七条、《政府采购货物和服务招标投标管理办法》第四十三条：投标人不足三家的处理",
  "Open Contracting Partnership, Red flags for integrity (2024), R018 Single bid received",
]
entity = ["ocid"]
unit   = "buyer_name"

[params]
procurement_methods = { type = "text", default = "open|selective", doc = "竞争性的采购方式(procurementMethod)，以 | 分隔；空为全部([R018] procurement_methods)" }
excluded_details    = { type = "text", default = "", doc = "不参与任何指标的采购方式明细，以 | 分隔([exclusions] procurement_method_details)" }

[labels]
tenderers   = "投标人数"
unassessed  = "无法判断的原因"
*/
WITH p AS (
    SELECT *
    FROM ocds_processes
    WHERE ocid IS NOT NULL
      AND (tender_status IS NULL OR tender_status <> 'cancelled')
      AND (method_details IS NULL OR $excluded_details = ''
           OR NOT array_has(string_to_array($excluded_details, '|'), method_details))
      AND ($procurement_methods = ''
           OR coalesce(array_has(string_to_array($procurement_methods, '|'), method), false))
)
SELECT ocid, title, buyer_name, method, method_details, tenderers, CAST(NULL AS VARCHAR) AS unassessed
FROM p
WHERE tenderers = 1
UNION ALL
SELECT ocid, title, buyer_name, method, method_details, tenderers, '缺投标人数(tender.numberOfTenderers)' AS unassessed
FROM p
WHERE tenderers IS NULL
