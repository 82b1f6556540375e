"""patriline.service"""
