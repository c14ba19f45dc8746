/* searchlight
id          = "relief.listed_in_two_households"
catalog     = "M08"
title       = "同一人在多个救助家庭中重复登记"
title_en    = "One person listed in more than one assisted household"
domain      = "relief"
area        = "低保"
severity    = "medium"
owner       = "民生领域监督检查室"
description = """
同一身份证号同时是两个以上在保家庭(低保、特困)的户主或成员，为重复享受救助或虚增保障人口的疑点；
城市低保与农村低保、低保与特困供养同时享受的情形包含在内。"""
basis = [
  "《社会救助暂行办法》(国务院令第649号)第九条：以共同生活的家庭为单位给予最低生活保障",
  "《社会救助暂行办法》第十四条、第十九条：特困供养对象应当无劳动能力、无生活来源且无法定赡养抚养扶养义务人；特困人员不再同时享受最低生活保障",
  "《社会救助暂行办法》第六十八条：采取虚报、隐瞒、伪造等手段骗取社会救助资金的，停止救助、责令退回",
]
entity = ["person_id"]
unit   = "region_code"
optional = ["relief_households", "relief_members", "relief_households.status", "relief_households.region_code", "relief_households.category", "relief_households.head_name", "relief_members.member_name"]
one_of   = [["relief_households.head_id", "relief_members.member_id"]]
*/
WITH people AS (
    SELECT h.household_id, h.region_code, h.category, h.head_id AS person_id, h.head_name AS person_name
    FROM relief_households h
    WHERE coalesce(h.status, '正常') = '正常' AND h.head_id IS NOT NULL
    UNION
    SELECT m.household_id, h.region_code, h.category, m.member_id, m.member_name
    FROM relief_members m
    LEFT JOIN relief_households h ON h.household_id = m.household_id
    WHERE coalesce(h.status, '正常') = '正常' AND m.member_id IS NOT NULL
),
twice AS (
    SELECT person_id FROM people GROUP BY person_id HAVING min(household_id) <> max(household_id)
)
SELECT
    p.person_id,
    min(p.person_name)                                 AS person_name,
    min(p.region_code)                                 AS region_code,
    count(DISTINCT p.household_id)                     AS households,
    array_to_string(array_sort(array_agg(DISTINCT p.household_id) FILTER (WHERE p.household_id IS NOT NULL)), '、') AS household_ids,
    array_to_string(array_sort(array_agg(DISTINCT p.category) FILTER (WHERE p.category IS NOT NULL)), '、') AS categories
FROM people p
JOIN twice t ON t.person_id = p.person_id
GROUP BY p.person_id
