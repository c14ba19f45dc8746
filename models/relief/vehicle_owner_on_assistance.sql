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
低保家庭(户主及成员)与公安交管机动车登记比对：名下有状态正常的机动车，且车辆在截止日前已登记的，
为家庭财产不符合低保条件的疑点。残疾人专用车(功能性补偿代步车)按各地财产规定不计入；已注销、报废的车辆不算。"""
basis = [
  "《社会救助暂行办法》(国务院令第649号)第九条：给予最低生活保障的家庭须符合当地最低生活保障家庭财产状况规定",
  "《最低生活保障审核确认办法》(民发〔2021〕57号)：家庭财产状况规定由省级人民政府制定；各地规定普遍将家庭成员名下拥有机动车辆(残疾人功能性补偿代步机动车辆除外)列为不符合条件的情形",
  "《社会救助暂行办法》第六十八条：采取虚报、隐瞒、伪造等手段骗取社会救助资金的，停止救助、责令退回",
]
entity = ["owner_id"]
unit   = "region_code"

[params]
exempt_type   = { type = "text", default = "残疾人专用", doc = "车辆类型含此字样的不计入家庭财产" }
active_status = { type = "text", default = "正常", doc = "视为仍在使用的机动车状态" }
*/
WITH people AS (
    SELECT h.household_id, h.region_code, h.category, h.head_id AS person_id, h.head_name AS person_name, '户主' AS relation
    FROM relief_households h
    WHERE h.status = '正常'
    UNION
    SELECT h.household_id, h.region_code, h.category, m.member_id, m.member_name, m.relation
    FROM relief_members m
    JOIN relief_households h ON h.household_id = m.household_id
    WHERE h.status = '正常'
)
SELECT
    v.owner_id,
    min(p.person_name)                          AS owner_name,
    min(p.household_id)                         AS household_id,
    min(p.region_code)                          AS region_code,
    min(p.category)                             AS category,
    string_agg(DISTINCT v.plate, '、')          AS plates,
    string_agg(DISTINCT v.model, '、')          AS models,
    min(v.first_registered)                     AS first_registered
FROM vehicles v
JOIN people p ON p.person_id = v.owner_id
WHERE v.status = $active_status
  AND strpos(v.vehicle_type, $exempt_type) = 0
  AND v.first_registered <= $as_of
GROUP BY v.owner_id
