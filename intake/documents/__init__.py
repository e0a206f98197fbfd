"""What a submitted document is made of: the format facts organizers check by eye.

`docx_facts` reads a .docx the way Word shows it — the font, size and boldness each run is
displayed with after styles, document defaults and theme fonts are applied, the page margins of
every section, Word's 字数, the people named under the title, pictures and videos — so that
rules such as "宋体 throughout, title 小二, ≤ 2,500 字, ≤ 2 signatories" can be checked.
"""
