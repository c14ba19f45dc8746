/* searchlight
id          = "relief.payroll_on_assistance"
catalog     = "M01"
title       = "财政供养人员享受低保"
title_en    = "Public-payroll staff receiving the subsistence allowance"
domain      = "relief"
area        = "低保"
severity    = "high"
owner       = "民生领域监督检查室"
description = """
低保家庭成员同时在财政供养人员名单中，且在低保发放月份处于在职(或离退休)状态。工资、退休金是家庭收入
的直接证据，按规定应计入家庭收入。公益性岗位人员虽列入名单，但不在比对范围(参数 excluded_staffing)。"""
basis = [
  "《社会救助暂行办法》(国务院令第649号)第九条：共同生活的家庭成员人均收入低于当地最低生活保障标准，且符合财产状况规定的家庭，给予最低生活保障",
  "《社会救助暂行办法》第六十八条：采取虚报、隐瞒、伪造等手段骗取社会救助资金的，停止救助、责令退回",
  "《最低生活保障审核确认办法》(民发〔2021〕57号)：家庭收入包括工资性收入和退休金",
]
entity = ["member_id"]
unit   = "payroll_unit"
amount = "amount"

optional = ["payroll.unit_name", "payroll.category", "payroll.staffing", "payroll.start_date", "payroll.end_date", "relief_members.member_name"]
one_of   = [["relief_payments.pay_month", "relief_payments.pay_date"]]

[params]
excluded_staffing = { type = "text", default = "公益性岗位", doc = "不参与比对的编制类型" }
*/
SELECT
    m.member_id,
    m.member_name,
    m.household_id,
    coalesce(p.unit_name, '财政供养单位') AS payroll_unit,
    p.category,
    p.staffing,
    count(*)             AS months,
    min(coalesce(d.pay_month, date_trunc('month', d.pay_date))) AS first_month,
    max(coalesce(d.pay_month, date_trunc('month', d.pay_date))) AS last_month,
    sum(d.amount)        AS amount
FROM relief_members m
-- the few members on the payroll first, then their households' payments (DataFusion joins in
-- the order written: members × payments first would pair every payment with every member)
JOIN payroll p         ON p.id_no = m.member_id
JOIN relief_payments d ON d.household_id = m.household_id
WHERE (p.start_date IS NULL OR coalesce(d.pay_month, date_trunc('month', d.pay_date)) >= date_trunc('month', p.start_date))
  AND (p.end_date IS NULL OR coalesce(d.pay_month, date_trunc('month', d.pay_date)) <= p.end_date)
  AND coalesce(p.staffing, '') <> $excluded_staffing
  AND coalesce(d.pay_month, date_trunc('month', d.pay_date)) <= $as_of
GROUP BY m.member_id, m.member_name, m.household_id, coalesce(p.unit_name, '财政供养单位'), p.category, p.staffing
