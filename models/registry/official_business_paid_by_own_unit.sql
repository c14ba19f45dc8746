/* searchlight
id          = "registry.official_business_paid_by_own_unit"
catalog     = "M31"
title       = "公职人员所办企业收取本单位财政资金"
title_en    = "Firms run or owned by public servants receiving payments from their own unit"
domain      = "registry"
area        = "违规经商办企业"
severity    = "high"
owner       = "党风政风监督室"
description = """
在职财政供养人员任法定代表人、股东或主要人员的企业，收到本人所在单位国库集中支付资金的
(收款人名称按规范化企业名称匹配)，为违规经商办企业并利用职务便利谋利的疑点，较单纯经商办企业更重。"""
basis = [
  "《中华人民共和国公务员法》第五十九条第(十六)项：公务员不得违反有关规定从事或者参与营利性活动",
  "《中华人民共和国公职人员政务处分法》第三十六条：违反规定从事或者参与营利性活动，或者违反规定兼任职务、领取报酬的处分",
  "《中国共产党纪律处分条例》(2023年修订)：利用职权或者职务上的影响为本人或者特定关系人谋取利益的处分",
]
entity = ["id_no", "uscc"]
unit   = "unit_name"
amount = "amount"
optional = ["payroll.category", "payroll.start_date", "payroll.name", "shareholders", "key_persons", "key_persons.position", "enterprises.legal_rep_id", "treasury_payments.amount", "treasury_payments.pay_date"]
one_of   = [["enterprises.legal_rep_id", "shareholders.holder_id", "key_persons.person_id"]]
*/
WITH roles AS (
    SELECT legal_rep_id AS person_id, uscc, '法定代表人' AS role FROM enterprises
    UNION ALL
    SELECT holder_id, uscc, '股东' FROM shareholders
    UNION ALL
    SELECT person_id, uscc, coalesce(position, '主要人员') FROM key_persons
),
staff_firms AS (
    SELECT p.id_no, p.name, p.unit_name, e.uscc, e.name AS enterprise, org_name_key(e.name) AS firm_key,
           array_to_string(array_sort(array_agg(DISTINCT r.role) FILTER (WHERE r.role IS NOT NULL)), '、') AS roles
    FROM payroll p
    JOIN roles r       ON r.person_id = p.id_no
    JOIN enterprises e ON e.uscc = r.uscc
    WHERE coalesce(p.category, '在职') = '在职' AND (p.start_date IS NULL OR p.start_date <= $as_of)
    GROUP BY p.id_no, p.name, p.unit_name, e.uscc, e.name
)
SELECT
    s.id_no,
    s.uscc,
    s.name,
    s.unit_name,
    s.enterprise,
    s.roles,
    count(*)            AS payments,
    sum(t.amount)       AS amount,
    min(t.pay_date)     AS first_paid,
    max(t.pay_date)     AS last_paid
FROM staff_firms s
JOIN treasury_payments t ON t.unit_name = s.unit_name AND org_name_key(t.payee_name) = s.firm_key
WHERE (t.pay_date IS NULL OR t.pay_date <= $as_of)
GROUP BY s.id_no, s.uscc, s.name, s.unit_name, s.enterprise, s.roles
