/* searchlight
id          = "relief.vehicle_owner_on_assistance"
catalog     = "M03"
title       = "低保家庭成员名下有机动车"
title_en    = "Subsistence-allowance household member owns a motor vehicle"
domain      = "relief"
area        = "低保"
severity    = "medium"
owner       = "民生领域监督检查室"
description = """
低保家庭(户主及成员)与公安交管机动车登记比对：名下有仍在其名下的机动车(注销、转出、报废、被盗抢的不算；逾期未检验、抵押等仍算)，且车辆在截止日前已登记的，
为家庭财产不符合低保条件的疑点。残疾人专用车(功能性补偿代步车)按各地财产规定不计入。"""
basis = [
  "《社会救助暂行办法》(国务院令第649号)第九条：给予最低生活保障的家庭须符合当地最低生活保障家庭财产状况规定",
  "《最低生活保障审核确认办法》(民发〔2021〕57号)：家庭财产状况规定由省级人民政府制定；各地规定普遍将家庭成员名下拥有机动车辆(残疾人功能性补偿代步机动车辆除外)列为不符合条件的情形",
  "《社会救助暂行办法》第六十八条：采取虚报、隐瞒、伪造等手段骗取社会救助资金的，停止救助、责令退回",
]
entity = ["owner_id"]
unit   = "region_code"

optional = ["relief_households", "relief_members", "relief_households.status", "relief_households.region_code", "relief_households.category", "relief_households.head_name", "relief_members.member_name", "relief_members.relation", "vehicles.status", "vehicles.vehicle_type", "vehicles.plate", "vehicles.model", "vehicles.first_registered"]
one_of   = [["relief_households.head_id", "relief_members.member_id"]]

[params]
exempt_type   = { type = "text", default = "残疾人专用", doc = "车辆类型含此字样的不计入家庭财产" }
gone_status   = { type = "text", default = "^(注销|强制注销|转出|达到报废标准|被盗抢)$", doc = "视为车辆已不在名下或不能使用的机动车状态(正则)；逾期未检验、违法未处理、抵押等仍算拥有" }
*/
WITH people AS (
    -- household heads, and every member (a member whose household row is missing still counts)
    SELECT h.household_id, h.region_code, h.category, h.head_id AS person_id, h.head_name AS person_name, '户主' AS relation
    FROM relief_households h
    WHERE coalesce(h.status, '正常') = '正常'
    UNION
    SELECT m.household_id, h.region_code, h.category, m.member_id, m.member_name, m.relation
    FROM relief_members m
    LEFT JOIN relief_households h ON h.household_id = m.household_id
    WHERE coalesce(h.status, '正常') = '正常'
)
SELECT
    v.owner_id,
    min(p.person_name)                          AS owner_name,
    min(p.household_id)                         AS household_id,
    min(p.region_code)                          AS region_code,
    min(p.category)                             AS category,
    array_to_string(array_sort(array_agg(DISTINCT v.plate) FILTER (WHERE v.plate IS NOT NULL)), '、') AS plates,
    array_to_string(array_sort(array_agg(DISTINCT v.model) FILTER (WHERE v.model IS NOT NULL)), '、') AS models,
    min(v.first_registered)                     AS first_registered
FROM vehicles v
JOIN people p ON p.person_id = v.owner_id
WHERE NOT regexp_like(coalesce(v.status, '正常'), $gone_status)
  AND strpos(coalesce(v.vehicle_type, ''), $exempt_type) = 0
  AND (v.first_registered IS NULL OR v.first_registered <= $as_of)
GROUP BY v.owner_id
