/* searchlight
id          = "procurement.tender_required_not_held"
catalog     = "M33"
title       = "达到公开招标数额标准未公开招标"
title_en    = "Lots above the open-tender threshold bought without an open tender"
domain      = "procurement"
area        = "政府采购"
severity    = "high"
owner       = "党风政风监督室"
description = """
采购项目(标段)预算达到公开招标数额标准(工程类按必须招标的施工标准)，却以竞争性谈判、磋商、询价等
非公开招标方式采购的，为应招未招的疑点(经财政部门批准变更采购方式的，核查时排除)。"""
basis = [
  "《中华人民共和国政府采购法》第二十六条：公开招标应作为政府采购的主要采购方式",
  "《中华人民共和国政府采购法》第二十七条：因特殊情况需要采用公开招标以外的采购方式的，应当在采购活动开始前获得设区的市、自治州以上人民政府采购监督管理部门的批准",
  "《必须招标的工程项目规定》(国家发展改革委令第16号)第五条：施工单项合同估算价在400万元人民币以上的，必须招标",
]
entity = ["lot_no"]
unit   = "buyer_name"
amount = "budget"

optional = ["procurement_lots.project_no", "procurement_lots.project_name", "procurement_lots.category", "procurement_lots.award_amount", "procurement_lots.winner_name", "procurement_lots.open_time"]

[params]
goods_threshold = { type = "money", default = 2000000, min = 100000, max = 100000000, doc = "货物、服务公开招标数额标准(元)" }
works_threshold = { type = "money", default = 4000000, min = 100000, max = 100000000, doc = "工程施工必须招标标准(元)" }
works_word      = { type = "text", default = "工程", doc = "品目含此字样的按工程标准" }
*/
SELECT
    lot_no,
    project_no,
    project_name,
    buyer_name,
    category,
    coalesce(method, '未记录') AS method,
    budget,
    award_amount,
    winner_name,
    open_time
FROM procurement_lots
-- no recorded method is no tender on record: the most suspicious case, not one to skip
WHERE coalesce(method, '未记录') NOT IN ('公开招标', '邀请招标')
  AND budget >= CASE WHEN strpos(coalesce(category, ''), $works_word) > 0 THEN $works_threshold ELSE $goods_threshold END
  AND (open_time IS NULL OR CAST(open_time AS DATE) <= $as_of)
