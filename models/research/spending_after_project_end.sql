/* searchlight
id          = "research.spending_after_project_end"
title       = "科研项目结题后继续列支经费"
title_en    = "Research spending after the project ended"
domain      = "research"
area        = "科研经费"
severity    = "low"
owner       = "第一监督检查室"
description = """
科研经费支出日期晚于项目执行期结束日期一定天数的，为结题后突击花钱、虚列支出的疑点
(结余资金应按规定留归单位统筹或收回，不得继续在原项目列支)。"""
basis = [
  "《国务院办公厅关于改革完善中央财政科研经费管理的若干意见》(国办发〔2021〕32号)：项目完成任务目标并通过综合绩效评价后，结余资金留归项目承担单位使用，统筹用于科研活动的直接支出",
  "《财政违法行为处罚处分条例》(国务院令第427号)第六条：违反规定使用财政资金的处理处分",
]
entity = ["voucher_no"]
unit   = "unit_name"
amount = "amount"

optional = ["research_projects.title", "research_projects.unit_name", "research_expenses.budget_line", "research_expenses.payee", "research_expenses.amount"]

[params]
grace_days = { type = "int", default = 90, min = 0, max = 365, doc = "结题后允许结清已发生支出的天数" }
*/
SELECT
    e.voucher_no,
    e.project_no,
    r.title              AS project_title,
    r.unit_name,
    r.end_date,
    e.budget_line,
    e.payee,
    e.amount,
    e.pay_date,
    e.pay_date - r.end_date AS days_after_end
FROM research_expenses e
JOIN research_projects r ON r.project_no = e.project_no
WHERE e.pay_date > r.end_date + $grace_days
  AND e.pay_date <= $as_of
