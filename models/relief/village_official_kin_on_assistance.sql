/* searchlight
id          = "relief.village_official_kin_on_assistance"
catalog     = "M07"
title       = "村干部近亲属享受低保未备案"
title_en    = "Relatives of village officials on the subsistence allowance without a filing"
domain      = "relief"
area        = "优亲厚友"
severity    = "medium"
owner       = "民生领域监督检查室"
description = """
村(社区)干部及其近亲属名单与低保家庭(户主及成员)比对：干部本人或其近亲属享受低保，且未在近亲属享受救助
备案中登记的，为优亲厚友疑点——民发〔2021〕57号要求村干部近亲属申请低保一律单独登记备案，不论在哪个村。
在干部任职的本村享受的为高风险(按村代码，或经单位名录按村名，或按所在乡镇判断，证据列「是否本村」写明)，
在外村享受的为中风险；无法判断的写「未核对是否本村」。已按规定备案的不算。"""
basis = [
  "《最低生活保障审核确认办法》(民发〔2021〕57号)：乡镇(街道)、村(居)委会工作人员及其近亲属申请最低生活保障的，应当单独登记备案",
  "《社会救助暂行办法》(国务院令第649号)第六十六条：违反规定使不符合条件的申请人获得社会救助的，对直接负责的主管人员和其他直接责任人员依法给予处分",
  "《中国共产党纪律处分条例》(2023年修订)侵害群众利益的行为：在社会保障、政策扶持、救灾救济款物分配等事项中优亲厚友、明显有失公平的，给予处分",
]
entity = ["person_id"]
unit   = "org_name"
optional = ["units", "units.name", "units.region_code", "officials.org_code", "relief_households.region_code", "official_relatives", "official_relatives.relation", "kin_filings", "kin_filings.filed_on", "relief_members", "officials.level", "officials.name", "officials.org_name", "officials.position", "relief_households.status", "relief_households.category", "relief_households.approved_date", "relief_households.head_name", "relief_members.member_name"]
one_of   = [["relief_households.head_id", "relief_members.member_id"]]
*/
WITH kin AS (
    SELECT o.id_no AS official_id, o.name AS official_name, o.org_name, o.org_code, o.position,
           o.id_no AS person_id, '本人' AS relation
    FROM officials o
    WHERE coalesce(o.level, '村级') = '村级'
    UNION ALL
    SELECT o.id_no, o.name, o.org_name, o.org_code, o.position, r.relative_id, coalesce(r.relation, '近亲属')
    FROM officials o
    JOIN official_relatives r ON r.official_id = o.id_no
    WHERE coalesce(o.level, '村级') = '村级'
),
people AS (
    SELECT h.household_id, h.region_code, h.category, h.approved_date, h.head_id AS person_id, h.head_name AS person_name
    FROM relief_households h
    WHERE coalesce(h.status, '正常') = '正常'
    UNION
    SELECT h.household_id, h.region_code, h.category, h.approved_date, m.member_id, m.member_name
    FROM relief_members m
    JOIN relief_households h ON h.household_id = m.household_id
    WHERE coalesce(h.status, '正常') = '正常'
),
-- the household's village by name, from the directory of units (a 12-digit region code)
village AS (
    SELECT region_code, min(name) AS name FROM units WHERE region_code IS NOT NULL GROUP BY region_code
),
matched AS (
    SELECT p.*, k.official_name, k.org_name, k.org_code, k.position, k.relation,
           CASE
             WHEN k.org_code IS NOT NULL AND p.region_code IS NOT NULL AND k.org_code = p.region_code THEN '本村(村代码一致)'
             WHEN v.name IS NOT NULL AND k.org_name IS NOT NULL
                  AND (org_name_key(k.org_name) = org_name_key(v.name)
                       OR org_name_key(k.org_name) LIKE '%' || org_name_key(v.name)) THEN '本村(村名一致)'
             WHEN k.org_code IS NOT NULL AND p.region_code IS NOT NULL
                  AND length(k.org_code) = 12 AND length(p.region_code) = 12
                  AND left(k.org_code, 9) = left(p.region_code, 9) THEN '同乡镇外村'
             WHEN k.org_code IS NOT NULL AND p.region_code IS NOT NULL
                  AND length(k.org_code) = 12 AND length(p.region_code) = 12 THEN '外村'
             ELSE '未核对是否本村'
           END AS same_village,
           CASE
             WHEN k.org_code IS NOT NULL AND p.region_code IS NOT NULL AND k.org_code = p.region_code THEN 1
             WHEN v.name IS NOT NULL AND k.org_name IS NOT NULL
                  AND (org_name_key(k.org_name) = org_name_key(v.name)
                       OR org_name_key(k.org_name) LIKE '%' || org_name_key(v.name)) THEN 1
             ELSE 2
           END AS rank
    FROM people p
    JOIN kin k ON k.person_id = p.person_id
    LEFT JOIN village v ON v.region_code = p.region_code
    WHERE (p.approved_date IS NULL OR p.approved_date <= $as_of)
      AND NOT EXISTS (SELECT 1 FROM kin_filings f WHERE f.id_no = p.person_id AND (f.filed_on IS NULL OR f.filed_on <= $as_of))
)
SELECT
    m.person_id,
    min(m.person_name)                                            AS person_name,
    min(m.household_id)                                           AS household_id,
    min(m.category)                                               AS category,
    min(coalesce(m.org_name, m.org_code))                         AS org_name,
    array_to_string(array_sort(array_agg(DISTINCT coalesce(m.official_name, '') || '(' || coalesce(m.position, '村干部') || '，' || m.relation || ')') FILTER (WHERE coalesce(m.official_name, '') || '(' || coalesce(m.position, '村干部') || '，' || m.relation || ')' IS NOT NULL)), '；') AS officials,
    -- 本村 first: the strongest reading of where the relative is assisted
    first_value(m.same_village ORDER BY m.rank, m.same_village)   AS same_village,
    CASE WHEN min(m.rank) = 1 THEN 'high' ELSE 'medium' END       AS severity,
    -- without a filing register the clue says so: the filing is then checked offline
    min(CASE WHEN f.filings = 0 THEN '未提供备案数据，需核实是否备案' ELSE '备案数据中无此人' END) AS filing
FROM matched m
CROSS JOIN (SELECT count(*) AS filings FROM kin_filings) f
GROUP BY m.person_id
