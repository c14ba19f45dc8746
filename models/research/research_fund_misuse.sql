/* searchlight
id          = "research.research_fund_misuse"
catalog     = "M48"
title       = "科研经费违规列支"
title_en    = "Research funds misused: labour fees to staff, expert fees to the team, outsourcing to the PI's firm"
domain      = "research"
area        = "科研经费"
severity    = "high"
owner       = "第一监督检查室"
description = """
科研经费支出与财政供养人员、项目组成员、市场主体登记比对，三类疑点：劳务费支付给在职财政供养人员；
专家咨询费支付给本项目组成员；协作费、测试化验加工费支付给项目负责人或成员任法定代表人、股东或主要人员
的企业。支付给在读学生的劳务费、项目组外专家的咨询费不算。"""
basis = [
  "《国务院关于优化科研管理提升科研绩效若干措施的通知》(国发〔2018〕25号)：劳务费用于支付参与项目研究的研究生、博士后、访问学者以及项目聘用的研究人员、科研辅助人员等",
  "《中央财政科研项目专家咨询费管理办法》(财科教〔2017〕128号)：专家咨询费不得支付给参与项目研究及其管理相关工作的人员",
  "《国务院办公厅关于改革完善中央财政科研经费管理的若干意见》(国办发〔2021〕32号)：严禁以任何方式挪用、侵占、骗取科研经费；严禁借科研协作之机将经费拨付给关联单位或个人",
]
entity = ["voucher_no"]
unit   = "unit_name"
amount = "amount"
optional = ["payroll", "payroll.category", "payroll.start_date", "payroll.end_date", "payroll.unit_name", "research_members", "research_members.name", "research_members.role", "research_projects", "research_projects.pi_id", "research_projects.pi_name", "research_projects.title", "research_projects.unit_name", "enterprises", "shareholders", "key_persons", "key_persons.position", "enterprises.legal_rep_id", "research_expenses.payee", "research_expenses.amount", "research_expenses.pay_date"]
one_of   = [["payroll.id_no", "research_members.member_id", "research_projects.pi_id"]]
*/
WITH team AS (
    SELECT project_no, member_id AS person_id, name, role FROM research_members
    UNION
    SELECT project_no, pi_id, pi_name, '负责人' FROM research_projects WHERE pi_id IS NOT NULL
),
firm_people AS (
    SELECT uscc, legal_rep_id AS person_id, '法定代表人' AS role FROM enterprises
    UNION ALL
    SELECT uscc, holder_id, '股东' FROM shareholders
    UNION ALL
    SELECT uscc, person_id, coalesce(position, '主要人员') FROM key_persons
),
findings AS (
    SELECT e.voucher_no, '劳务费支付给在职财政供养人员(' || coalesce(min(p.unit_name), '财政供养单位') || ')' AS finding
    FROM research_expenses e
    JOIN payroll p ON p.id_no = e.payee_code AND coalesce(p.category, '在职') = '在职'
    WHERE e.budget_line = '劳务费'
      AND (p.start_date IS NULL OR e.pay_date IS NULL OR p.start_date <= e.pay_date)
      AND (p.end_date IS NULL OR e.pay_date IS NULL OR p.end_date >= e.pay_date)
    GROUP BY e.voucher_no
    UNION ALL
    SELECT e.voucher_no, '专家咨询费支付给项目组成员(' || coalesce(min(t.role), '成员') || ')'
    FROM research_expenses e
    JOIN team t ON t.project_no = e.project_no AND t.person_id = e.payee_code
    WHERE e.budget_line = '专家咨询费'
    GROUP BY e.voucher_no
    UNION ALL
    SELECT e.voucher_no, '经费支付给项目组成员' || coalesce(min(t.name), '') || '任' || array_to_string(array_sort(array_agg(DISTINCT f.role) FILTER (WHERE f.role IS NOT NULL)), '、') || '的企业'
    FROM research_expenses e
    JOIN firm_people f ON f.uscc = e.payee_code
    JOIN team t        ON t.project_no = e.project_no AND t.person_id = f.person_id
    WHERE e.budget_line IN ('协作费', '测试化验加工费', '委托业务费')
    GROUP BY e.voucher_no
)
SELECT
    e.voucher_no,
    e.project_no,
    r.title                                 AS project_title,
    r.unit_name,
    r.pi_name,
    e.budget_line,
    e.payee,
    e.amount,
    e.pay_date,
    array_to_string(array_sort(array_agg(f.finding) FILTER (WHERE f.finding IS NOT NULL)), '；') AS findings
FROM findings f
JOIN research_expenses e ON e.voucher_no = f.voucher_no
LEFT JOIN research_projects r ON r.project_no = e.project_no
WHERE (e.pay_date IS NULL OR e.pay_date <= $as_of)
GROUP BY e.voucher_no, e.project_no, r.title, r.unit_name, r.pi_name, e.budget_line, e.payee, e.amount, e.pay_date
