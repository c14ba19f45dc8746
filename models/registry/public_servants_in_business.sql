/* searchlight
id          = "registry.public_servants_in_business"
catalog     = "M31"
title       = "公职人员违规经商办企业"
title_en    = "Public servants owning or running businesses"
domain      = "registry"
area        = "违规经商办企业"
severity    = "high"
owner       = "党风政风监督室"
description = """
在职财政供养人员与市场主体登记比对：担任存续企业法定代表人、持有存续企业股份，或担任存续企业监事、
经理等主要人员的，为违规经商办企业疑点。企业已注销，或人员在企业成立前已退出财政供养的，不在其列。"""
basis = [
  "《中华人民共和国公务员法》第五十九条第(十六)项：公务员不得违反有关规定从事或者参与营利性活动，在企业或者其他营利性组织中兼任职务",
  "《中国共产党纪律处分条例》(2023年修订)第一百零三条：违反有关规定从事营利活动的处分",
]
entity = ["id_no"]
unit   = "unit_name"

optional = ["payroll.category", "payroll.name", "payroll.unit_name", "payroll.staffing", "payroll.start_date", "payroll.end_date", "enterprises.name", "enterprises.founded", "enterprises.legal_rep_id", "shareholders", "key_persons", "key_persons.position"]
one_of   = [["enterprises.legal_rep_id", "shareholders.holder_id", "key_persons.person_id"]]

[params]
active_status = { type = "text", default = "存续", doc = "视为仍在经营的登记状态" }
*/
WITH roles AS (
    SELECT legal_rep_id AS person_id, uscc, '法定代表人' AS role FROM enterprises
    UNION ALL
    SELECT holder_id, uscc, '股东' FROM shareholders
    UNION ALL
    SELECT person_id, uscc, coalesce(position, '主要人员') FROM key_persons
)
SELECT
    p.id_no,
    p.name,
    p.unit_name,
    p.staffing,
    e.uscc,
    e.name AS enterprise,
    e.status,
    e.founded,
    array_to_string(array_sort(array_agg(DISTINCT r.role) FILTER (WHERE r.role IS NOT NULL)), '、') AS roles
FROM payroll p
JOIN roles r       ON r.person_id = p.id_no
JOIN enterprises e ON e.uscc = r.uscc
WHERE coalesce(p.category, '在职') = '在职'
  AND e.status = $active_status
  AND (p.end_date IS NULL OR e.founded IS NULL OR p.end_date >= e.founded)
  AND (p.start_date IS NULL OR p.start_date <= $as_of)
GROUP BY p.id_no, p.name, p.unit_name, p.staffing, e.uscc, e.name, e.status, e.founded
