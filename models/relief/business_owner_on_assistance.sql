/* searchlight
id          = "relief.business_owner_on_assistance"
catalog     = "M05"
title       = "低保家庭成员登记经营市场主体"
title_en    = "Subsistence-allowance household member owns or runs a business"
domain      = "relief"
area        = "低保"
severity    = "medium"
owner       = "民生领域监督检查室"
description = """
低保家庭(户主及成员)与市场主体登记比对：任存续企业法定代表人、持有存续企业股份或任其监事、经理等
主要人员的，为家庭收入、财产未如实申报的疑点。企业已注销的不算。"""
basis = [
  "《社会救助暂行办法》(国务院令第649号)第九条：共同生活的家庭成员人均收入低于当地最低生活保障标准，且符合财产状况规定的家庭，给予最低生活保障",
  "《社会救助暂行办法》第十三条：最低生活保障家庭的人口状况、收入状况、财产状况发生变化的，应当及时告知乡镇人民政府、街道办事处",
  "《社会救助暂行办法》第六十八条：采取虚报、隐瞒、伪造等手段骗取社会救助资金的，停止救助、责令退回",
]
entity = ["person_id"]
unit   = "region_code"

optional = ["relief_households", "relief_members", "relief_members.relation", "relief_households.status", "relief_households.region_code", "relief_households.head_name", "relief_members.member_name", "enterprises.founded", "enterprises.name", "shareholders", "key_persons"]
one_of   = [["relief_households.head_id", "relief_members.member_id"], ["enterprises.legal_rep_id", "shareholders.holder_id", "key_persons.person_id"]]

[params]
active_status = { type = "text", default = "存续", doc = "视为仍在经营的登记状态" }
*/
WITH people AS (
    -- household heads, and every member (a member whose household row is missing still counts)
    SELECT h.household_id, h.region_code, h.head_id AS person_id, h.head_name AS person_name, '户主' AS relation
    FROM relief_households h
    WHERE coalesce(h.status, '正常') = '正常'
    UNION
    SELECT m.household_id, h.region_code, m.member_id, m.member_name, m.relation
    FROM relief_members m
    LEFT JOIN relief_households h ON h.household_id = m.household_id
    WHERE coalesce(h.status, '正常') = '正常'
),
roles AS (
    SELECT legal_rep_id AS person_id, uscc, '法定代表人' AS role FROM enterprises
    UNION ALL
    SELECT holder_id, uscc, '股东' FROM shareholders
    UNION ALL
    SELECT person_id, uscc, position FROM key_persons
)
SELECT
    p.person_id,
    min(p.person_name)                        AS person_name,
    min(p.household_id)                       AS household_id,
    min(p.region_code)                        AS region_code,
    array_to_string(array_sort(array_agg(DISTINCT e.name) FILTER (WHERE e.name IS NOT NULL)), '、') AS enterprises,
    array_to_string(array_sort(array_agg(DISTINCT r.role) FILTER (WHERE r.role IS NOT NULL)), '、') AS roles,
    min(e.founded)                            AS earliest_founded
FROM people p
JOIN roles r       ON r.person_id = p.person_id
JOIN enterprises e ON e.uscc = r.uscc
WHERE p.person_id IS NOT NULL
  AND e.status = $active_status
  AND (e.founded IS NULL OR e.founded <= $as_of)
GROUP BY p.person_id
