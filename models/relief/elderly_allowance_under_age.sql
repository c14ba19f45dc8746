/* searchlight
id          = "relief.elderly_allowance_under_age"
catalog     = "M12"
title       = "未达年龄领取高龄津贴"
title_en    = "Old-age allowance paid to people below the qualifying age"
domain      = "relief"
area        = "惠民惠农补贴"
severity    = "medium"
owner       = "民生领域监督检查室"
description = """
一卡通补贴发放明细中，高龄津贴的领取人按身份证号计算的发放当日年龄低于起领年龄的，为虚报年龄、
对象不符的疑点。身份证号无法识别出生日期的也列出，待核实身份。"""
basis = [
  "《中华人民共和国老年人权益保障法》第三十三条：国家鼓励地方建立八十周岁以上低收入老年人高龄津贴制度",
  "各省(自治区、直辖市)高龄津贴实施办法：发放对象为具有本地户籍、年满起领年龄(一般为八十周岁)的老年人",
  "《财政违法行为处罚处分条例》(国务院令第427号)第六条：以虚报、冒领等手段骗取财政资金的处理处分",
]
entity = ["id_no"]
unit   = "village"
amount = "amount"

optional = ["subsidy_payments.name", "subsidy_payments.village", "subsidy_payments.amount"]

[params]
programme = { type = "text", default = "高龄津贴", doc = "补贴项目名称" }
min_age   = { type = "int", default = 80, min = 60, max = 100, doc = "起领年龄(周岁)" }
*/
SELECT
    id_no,
    min(name)                                  AS name,
    min(village)                               AS village,
    id_card_birth_date(id_no)                  AS birth_date,
    min(id_card_age(id_no, pay_date))          AS age_at_first_payment,
    count(*)                                   AS payments,
    sum(amount)                                AS amount,
    min(pay_date)                              AS first_paid,
    max(pay_date)                              AS last_paid
FROM subsidy_payments
WHERE programme = $programme
  AND pay_date <= $as_of
  AND (id_card_age(id_no, pay_date) IS NULL OR id_card_age(id_no, pay_date) < $min_age)
GROUP BY id_no
