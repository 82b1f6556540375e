"""patriline.search"""
